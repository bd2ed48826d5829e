/**
 * The whole fallback-ctr lifecycle on one machine, on embedded defaults:
 * click logs → trainer run (version 1 becomes champion) → inference serving it → a new day of traffic →
 * trainer run (version 2 becomes champion) → inference restarted (standing in for the rolling update).
 * Started by scripts/demo.sh; see the README's Quick start.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTraffic, syntheticImpressions } from '@fallback-ctr/clicklog';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import { createLogger, createShutdown, type Logger, parseEnv, type Shutdown } from '@fallback-ctr/runtime';
import { closingBlock } from './closing-block.js';
import { DEMO_ATTRIBUTION_WINDOW_MINUTES, demoToday } from './demo-days.js';
import { DemoEnvSchema, demoOptions } from './demo-env.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { freePort, portIsFree } from './free-port.js';
import { type PredictResult, predict, startInference } from './inference-process.js';
import { startLocalMlflow } from './local-mlflow.js';
import { createLogSink, type LogSink } from './log-lines.js';
import { runTrainer } from './trainer-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY_MS = 86_400_000;
/** Empty databases the first run made (PGlite's data directory, MLflow's migrated SQLite file), per version. */
const CACHE_DIR = join(ROOT, '.data', 'cache');

const startedAt = Date.now();
/** A path as a person can use it: relative to the checkout when inside it, else as it is. */
const shownPath = (path: string) => (relative(ROOT, path).startsWith('..') ? path : relative(ROOT, path));
const seconds = () => Math.round((Date.now() - startedAt) / 1000);

/** One-line failure for something the person can fix before anything starts; exit code 2. */
class DemoUsageError extends Error {}

function printPredictions(out: NodeJS.WriteStream, result: PredictResult, trueCtr: ReadonlyMap<string, number>): void {
  out.write(`model ${result.model.name} version ${result.model.version}\n`);
  out.write(`  ${'impression'.padEnd(22)} ${'predicted'.padStart(9)} ${'true ctr'.padStart(9)}\n`);
  for (const p of result.predictions) {
    const truth = p.id === undefined ? undefined : trueCtr.get(p.id);
    out.write(
      `  ${String(p.id).padEnd(22)} ${p.ctr.toFixed(5).padStart(9)} ${(truth?.toFixed(5) ?? '?').padStart(9)}\n`,
    );
  }
}

/** The inference port: the one asked for (it must be free), else 8080 if free, else any free port. */
async function inferencePort(asked: number | undefined): Promise<{ port: number; note?: string }> {
  if (asked === 0) return { port: await freePort() };
  if (asked !== undefined) {
    if (await portIsFree(asked)) return { port: asked };
    throw new DemoUsageError(
      `port ${asked} (DEMO_INFERENCE_PORT) is in use on 127.0.0.1: stop what listens there, or set DEMO_INFERENCE_PORT to a free port (0 = any)`,
    );
  }
  if (await portIsFree(8080)) return { port: 8080 };
  const port = await freePort();
  return {
    port,
    note: `port 8080 is in use: the inference API listens on ${port} instead (set DEMO_INFERENCE_PORT to choose)`,
  };
}

async function main(): Promise<void> {
  const env = parseEnv(DemoEnvSchema);
  const dataDir = resolve(ROOT, env.DEMO_DATA_DIR);
  const out = process.stdout;
  const color = out.isTTY === true;
  const { exitAtEnd, format } = demoOptions(env, process.argv.slice(2), color);
  const port = await inferencePort(env.DEMO_INFERENCE_PORT);

  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const jsonLog = join(dataDir, 'logs.jsonl');
  const output = createLogSink({ format, out, jsonFile: jsonLog });
  const logger = createLogger({ name: 'demo', destination: output.stream() });
  const shutdown = createShutdown({ logger, timeoutMs: 30_000 });
  shutdown.install();
  // A closed terminal (SIGHUP) stops everything too: MLflow runs in a process group of its own and
  // would outlive the demo, holding its port.
  process.once('SIGHUP', () => void shutdown.run('SIGHUP').finally(() => process.exit(129)));
  const banner = (text: string) =>
    out.write(
      color ? `\n\x1b[1m== ${text} ==\x1b[0m \x1b[2m(${seconds()} s)\x1b[0m\n` : `\n== ${text} == (${seconds()} s)\n`,
    );
  if (format === 'pretty') out.write(`Readable log lines below; the full JSON lines go to ${shownPath(jsonLog)}\n`);
  if (port.note) logger.warn(port.note);

  try {
    await runDemo({ env, dataDir, exitAtEnd, out, color, port: port.port, output, logger, shutdown, banner, jsonLog });
  } catch (error) {
    logger.error({ err: error }, 'demo failed');
    await shutdown.run('demo failed');
    await output.close();
    process.exit(1);
  }
}

interface DemoContext {
  env: ReturnType<typeof parseEnv<typeof DemoEnvSchema>>;
  dataDir: string;
  exitAtEnd: boolean;
  out: NodeJS.WriteStream;
  color: boolean;
  port: number;
  output: LogSink;
  logger: Logger;
  shutdown: Shutdown;
  banner: (text: string) => void;
  jsonLog: string;
}

async function runDemo(ctx: DemoContext): Promise<void> {
  const { env, dataDir, out, output, logger, shutdown, banner } = ctx;

  banner('1/7 MLflow tracking server and model registry (starting in the background)');
  let trackingUri = env.MLFLOW_TRACKING_URI;
  let mlflowReady: Promise<void> = Promise.resolve();
  let mlflowLog: string | undefined;
  if (trackingUri === undefined) {
    const mlflow = await startLocalMlflow({
      venv: process.env.FALLBACK_CTR_VENV ?? join(ROOT, '.venv'),
      dataDir: join(dataDir, 'mlflow'),
      cacheDir: CACHE_DIR,
      logger,
    });
    shutdown.register('mlflow', () => mlflow.stop());
    trackingUri = mlflow.url;
    mlflowReady = mlflow.ready;
    mlflowLog = mlflow.log;
  }
  const registry = createMlflowClient({ trackingUri });

  banner('2/7 click-log database');
  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl === undefined) {
    const embedded = await startEmbeddedPostgres({ root: ROOT, cacheDir: CACHE_DIR, logger });
    shutdown.register('embedded postgres', () => embedded.stop());
    databaseUrl = embedded.url;
  }

  // Two days of history end at the start of "yesterday"; the second run adds yesterday itself.
  const today = demoToday(Date.now());
  const start = new Date(today - 3 * DAY_MS);
  // No truth table: nothing reads it (the true CTRs printed beside the predictions come from the generator).
  const traffic = {
    db: databaseUrl,
    seed: env.DEMO_SEED,
    impressionsPerDay: env.DEMO_IMPRESSIONS_PER_DAY,
    start,
    writeTruth: false,
  };

  banner('3/7 two days of synthetic click logs');
  await generateTraffic({ ...traffic, days: 2, replace: true, logger });
  await mlflowReady;

  const trainerEnv = {
    DATABASE_URL: databaseUrl,
    MLFLOW_TRACKING_URI: trackingUri,
    MODEL_NAME: env.DEMO_MODEL_NAME,
    HOLDOUT_HOURS: '12',
    ATTRIBUTION_WINDOW_MINUTES: String(DEMO_ATTRIBUTION_WINDOW_MINUTES),
    ROLLOUT_MODE: 'none',
  };

  /** A trainer run on every day so far (the window grows with the history); the champion after it. */
  const trainOnDays = async (days: number) => {
    await runTrainer({
      root: ROOT,
      output,
      env: {
        ...trainerEnv,
        TRAIN_WINDOW_HOURS: String(24 * days),
        TRAIN_WINDOW_END: new Date(start.getTime() + days * DAY_MS).toISOString(),
      },
    });
    return registry.getModelVersionByAlias(env.DEMO_MODEL_NAME, 'champion');
  };

  banner('4/7 trainer run on days 1-2');
  const first = await trainOnDays(2);

  banner(`5/7 inference API serving the champion (version ${first.version})`);
  const inferenceEnv = {
    MLFLOW_TRACKING_URI: trackingUri,
    MODEL_NAME: env.DEMO_MODEL_NAME,
    HOST: '127.0.0.1',
    PORT: String(ctx.port),
    WORKERS: '2',
    // No load balancer in front of the demo: nothing to drain for.
    SHUTDOWN_DRAIN_SECONDS: '0',
  };
  let inference = await startInference({ root: ROOT, env: inferenceEnv, output });
  shutdown.register('inference', () => inference.stop());
  // Today's traffic of the same synthetic world: impressions no model has seen, with their true CTR.
  const upcoming = [...syntheticImpressions({ ...traffic, days: 1, firstDay: 3, impressionsPerDay: 2000 })].slice(0, 6);
  const trueCtr = new Map(upcoming.map((s) => [s.id, s.trueCtr]));
  const samples = upcoming.map((s) => ({ id: s.id, ...s.impression }));
  const before = await predict(inference.url, samples);
  printPredictions(out, before, trueCtr);

  banner('6/7 a new day of traffic, and the trainer again');
  await generateTraffic({ ...traffic, days: 1, firstDay: 2, logger });
  const second = await trainOnDays(3);

  banner(`7/7 inference restarted: each pod resolves champion (now version ${second.version}) at start-up`);
  await inference.stop();
  inference = await startInference({ root: ROOT, env: inferenceEnv, output });
  const after = await predict(inference.url, samples);
  printPredictions(out, after, trueCtr);
  const versions = await registry.searchAllModelVersions({ name: env.DEMO_MODEL_NAME });
  const experimentId = (await registry.getExperimentByName(env.DEMO_MODEL_NAME))?.experimentId ?? '0';

  const summary = {
    mlflowUrl: trackingUri,
    modelName: env.DEMO_MODEL_NAME,
    firstChampion: first.version,
    secondChampion: second.version,
    versions: versions.map((v) => ({ version: v.version, gate: v.tags['gate.outcome'], runId: v.runId })),
    inferenceUrl: inference.url,
    predictionsBefore: before,
    predictionsAfter: after,
    seconds: seconds(),
  };
  writeFileSync(join(dataDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  if (ctx.exitAtEnd) {
    await shutdown.run('demo finished (--exit)');
    await output.close();
  }
  out.write(
    closingBlock({
      seconds: summary.seconds,
      stopped: ctx.exitAtEnd,
      color: ctx.color,
      root: ROOT,
      dataDir: shownPath(dataDir),
      logs: [shownPath(ctx.jsonLog), ...(mlflowLog ? [shownPath(mlflowLog)] : [])],
      localMlflow: mlflowLog !== undefined,
      trackingUri,
      experimentId,
      modelName: env.DEMO_MODEL_NAME,
      firstChampion: first.version,
      secondChampion: second.version,
      inferenceUrl: inference.url,
      databaseUrl,
    }),
  );
}

main().catch((error: unknown) => {
  if (error instanceof DemoUsageError) {
    process.stderr.write(`demo: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
