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

function printPredictions(result: PredictResult): void {
  process.stdout.write(`model ${result.model.name} version ${result.model.version}\n`);
  for (const p of result.predictions) {
    process.stdout.write(`  ${String(p.id).padEnd(24)} ctr=${p.ctr.toFixed(5)}\n`);
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
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const start = new Date(today.getTime() - 3 * DAY_MS);
  const traffic = { db: databaseUrl, seed: env.DEMO_SEED, impressionsPerDay: env.DEMO_IMPRESSIONS_PER_DAY, start };

  banner('3/7 two days of synthetic click logs');
  const firstDays = await generateTraffic({ ...traffic, days: 2, replace: true, logger });
  logger.info(firstDays, 'click logs written');

  const trainerEnv = {
    DATABASE_URL: databaseUrl,
    MLFLOW_TRACKING_URI: trackingUri,
    MODEL_NAME: env.DEMO_MODEL_NAME,
    TRAIN_WINDOW_HOURS: '48',
    HOLDOUT_HOURS: '12',
    ATTRIBUTION_WINDOW_MINUTES: '30',
    ROLLOUT_MODE: 'none',
  };

  banner('4/7 trainer run on days 1-2');
  await runTrainer({
    root: ROOT,
    env: { ...trainerEnv, TRAIN_WINDOW_END: new Date(start.getTime() + 2 * DAY_MS).toISOString() },
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
  };
  let inference = await startInference({ root: ROOT, env: inferenceEnv });
  shutdown.register('inference', () => inference.stop());
  const samples = [...syntheticImpressions({ seed: env.DEMO_SEED, days: 1, impressionsPerDay: 5, start: today })].map(
    (s) => ({ id: s.id, ...s.impression }),
  );
  const before = await predict(inference.url, samples);
  printPredictions(before);

  banner('6/7 a new day of traffic, and the trainer again');
  const nextDay = await generateTraffic({ ...traffic, days: 1, firstDay: 2, logger });
  logger.info(nextDay, 'click logs written');
  await runTrainer({
    root: ROOT,
    env: { ...trainerEnv, TRAIN_WINDOW_END: new Date(start.getTime() + 3 * DAY_MS).toISOString() },
  });
  const second = await registry.getModelVersionByAlias(env.DEMO_MODEL_NAME, 'champion');
  logger.info({ version: second.version }, 'champion after the second run');

  banner('7/7 inference restarted: each pod resolves champion at start-up');
  await inference.stop();
  inference = await startInference({ root: ROOT, env: inferenceEnv });
  const after = await predict(inference.url, samples);
  printPredictions(after);

  const summary = {
    mlflowUrl: trackingUri,
    modelName: env.DEMO_MODEL_NAME,
    firstChampion: first.version,
    secondChampion: second.version,
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
