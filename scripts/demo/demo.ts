/**
 * The whole fallback-ctr lifecycle on one machine, on embedded defaults:
 * click logs → trainer run (version 1 becomes champion) → inference serving it → a new day of traffic →
 * trainer run (version 2 becomes champion) → inference restarted (standing in for the rolling update).
 * Started by scripts/demo.sh; see the README's Quick start.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTraffic, syntheticImpressions } from '@fallback-ctr/clicklog';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import { createLogger, createShutdown, parseEnv } from '@fallback-ctr/runtime';
import { DemoEnvSchema } from './demo-env.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { freePort } from './free-port.js';
import { type PredictResult, predict, startInference } from './inference-process.js';
import { startLocalMlflow } from './local-mlflow.js';
import { runTrainer } from './trainer-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY_MS = 86_400_000;

const logger = createLogger({ name: 'demo' });
const shutdown = createShutdown({ logger, timeoutMs: 30_000 });

function banner(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text} ==\x1b[0m\n`);
}

function printPredictions(result: PredictResult, trueCtr: ReadonlyMap<string, number>): void {
  process.stdout.write(`model ${result.model.name} version ${result.model.version}\n`);
  process.stdout.write(`  ${'impression'.padEnd(22)} ${'predicted'.padStart(9)} ${'true ctr'.padStart(9)}\n`);
  for (const p of result.predictions) {
    const truth = p.id === undefined ? undefined : trueCtr.get(p.id);
    process.stdout.write(
      `  ${String(p.id).padEnd(22)} ${p.ctr.toFixed(5).padStart(9)} ${(truth?.toFixed(5) ?? '?').padStart(9)}\n`,
    );
  }
}

async function main(): Promise<void> {
  const env = parseEnv(DemoEnvSchema);
  const dataDir = resolve(ROOT, env.DEMO_DATA_DIR);
  const exitAtEnd = env.DEMO_EXIT === 'true' || process.argv.includes('--exit');
  shutdown.install();

  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });

  banner('1/7 click-log database');
  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl === undefined) {
    const embedded = await startEmbeddedPostgres(logger);
    shutdown.register('embedded postgres', () => embedded.stop());
    databaseUrl = embedded.url;
  }

  banner('2/7 MLflow tracking server and model registry');
  let trackingUri = env.MLFLOW_TRACKING_URI;
  if (trackingUri === undefined) {
    const mlflow = await startLocalMlflow({
      venv: join(ROOT, '.venv'),
      dataDir: join(dataDir, 'mlflow'),
      logger,
    });
    shutdown.register('mlflow', () => mlflow.stop());
    trackingUri = mlflow.url;
  }
  const registry = createMlflowClient({ trackingUri });

  // Two days of history end at the start of "yesterday"; the second run adds yesterday itself.
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const start = new Date(today - 3 * DAY_MS);
  const traffic = { db: databaseUrl, seed: env.DEMO_SEED, impressionsPerDay: env.DEMO_IMPRESSIONS_PER_DAY, start };

  banner('3/7 two days of synthetic click logs');
  const firstDays = await generateTraffic({ ...traffic, days: 2, replace: true, logger });
  logger.info(firstDays, 'click logs written');

  const trainerEnv = {
    DATABASE_URL: databaseUrl,
    MLFLOW_TRACKING_URI: trackingUri,
    MODEL_NAME: env.DEMO_MODEL_NAME,
    HOLDOUT_HOURS: '12',
    ATTRIBUTION_WINDOW_MINUTES: '30',
    ROLLOUT_MODE: 'none',
  };

  banner('4/7 trainer run on days 1-2');
  await runTrainer({
    root: ROOT,
    env: {
      ...trainerEnv,
      TRAIN_WINDOW_HOURS: '48',
      TRAIN_WINDOW_END: new Date(start.getTime() + 2 * DAY_MS).toISOString(),
    },
  });
  const first = await registry.getModelVersionByAlias(env.DEMO_MODEL_NAME, 'champion');
  logger.info({ version: first.version }, 'champion after the first run');

  banner('5/7 inference API serving the champion');
  const port = env.DEMO_INFERENCE_PORT === 0 ? await freePort() : env.DEMO_INFERENCE_PORT;
  const inferenceEnv = {
    MLFLOW_TRACKING_URI: trackingUri,
    MODEL_NAME: env.DEMO_MODEL_NAME,
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKERS: '2',
    // No load balancer in front of the demo: nothing to drain for.
    SHUTDOWN_DRAIN_SECONDS: '0',
  };
  let inference = await startInference({ root: ROOT, env: inferenceEnv });
  shutdown.register('inference', () => inference.stop());
  // Today's traffic of the same synthetic world: impressions no model has seen, with their true CTR.
  const upcoming = [...syntheticImpressions({ ...traffic, days: 1, firstDay: 3, impressionsPerDay: 2000 })].slice(0, 6);
  const trueCtr = new Map(upcoming.map((s) => [s.id, s.trueCtr]));
  const samples = upcoming.map((s) => ({ id: s.id, ...s.impression }));
  const before = await predict(inference.url, samples);
  printPredictions(before, trueCtr);

  banner('6/7 a new day of traffic, and the trainer again');
  const nextDay = await generateTraffic({ ...traffic, days: 1, firstDay: 2, logger });
  logger.info(nextDay, 'click logs written');
  await runTrainer({
    root: ROOT,
    // The window grows with the history: the new model learns from every day so far.
    env: {
      ...trainerEnv,
      TRAIN_WINDOW_HOURS: '72',
      TRAIN_WINDOW_END: new Date(start.getTime() + 3 * DAY_MS).toISOString(),
    },
  });
  const second = await registry.getModelVersionByAlias(env.DEMO_MODEL_NAME, 'champion');
  logger.info({ version: second.version }, 'champion after the second run');

  banner('7/7 inference restarted: each pod resolves champion at start-up');
  await inference.stop();
  inference = await startInference({ root: ROOT, env: inferenceEnv });
  const after = await predict(inference.url, samples);
  printPredictions(after, trueCtr);
  const versions = await registry.searchAllModelVersions({ name: env.DEMO_MODEL_NAME });

  const summary = {
    mlflowUrl: trackingUri,
    modelName: env.DEMO_MODEL_NAME,
    firstChampion: first.version,
    secondChampion: second.version,
    versions: versions.map((v) => ({ version: v.version, gate: v.tags['gate.outcome'], runId: v.runId })),
    inferenceUrl: inference.url,
    predictionsBefore: before,
    predictionsAfter: after,
  };
  writeFileSync(join(dataDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  process.stdout.write(`
\x1b[1mfallback-ctr is running.\x1b[0m Where to look:
  MLflow UI (runs, metrics, plots, gate reports):  ${trackingUri}
  the registered model, its versions and aliases:   ${trackingUri}/#/models/${env.DEMO_MODEL_NAME}
  inference API docs (OpenAPI):                    ${inference.url}/docs
  try it:  curl -s ${inference.url}/predict -H 'content-type: application/json' \\
             -d '{"impressions":[{"id":"a","ad_id":"ad-1","device_type":"mobile"}]}'
`);
  if (exitAtEnd) {
    await shutdown.run('demo finished (--exit)');
    return;
  }
  process.stdout.write('Press Ctrl-C to stop everything.\n');
}

main().catch(async (error: unknown) => {
  logger.error({ err: error }, 'demo failed');
  await shutdown.run('demo failed');
  process.exit(1);
});
