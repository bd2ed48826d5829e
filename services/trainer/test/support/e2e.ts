import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { dropSchema, type GenerateTrafficOptions, generateTraffic } from '@fallback-ctr/clicklog';
import { createMlflowClient, type MlflowClient, type Run } from '@fallback-ctr/mlflow';
import type { Env } from '@fallback-ctr/runtime';
import { afterAll } from 'vitest';
import { type ProxyAction, startFaultProxy } from '../../../../libs/mlflow/test/support/fault-proxy.js';
import { jsonLineSink } from '../../../../test/support/json-lines.js';
import { databaseUrl, trackingUri } from '../../../../test/support/set-up-env.js';
import { type CliIo, runCli } from '../../src/cli.js';

export { databaseUrl, trackingUri };

export const uniqueSuffix = (): string => randomBytes(4).toString('hex');

/** Synthetic traffic: DAYS days from START, small enough to keep a run at a few seconds. */
export const START = new Date('2026-03-01T00:00:00.000Z');
export const DAYS = 4;
export const WINDOW_END = new Date(START.getTime() + DAYS * 86_400_000);

export async function seedTraffic(
  schema: string,
  options: Partial<GenerateTrafficOptions> = {},
): Promise<Awaited<ReturnType<typeof generateTraffic>>> {
  return generateTraffic({
    db: databaseUrl(),
    schema,
    replace: true,
    seed: 11,
    days: DAYS,
    impressionsPerDay: 15_000,
    start: START,
    ...options,
  });
}

/** Environment of a trainer run against this test file's schema and model name. */
export function trainerEnv(schema: string, modelName: string, extra: Env = {}): Env {
  return {
    DATABASE_URL: databaseUrl(),
    MLFLOW_TRACKING_URI: trackingUri(),
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1',
    CLICKLOG_SCHEMA: schema,
    MODEL_NAME: modelName,
    TRAIN_WINDOW_HOURS: String(DAYS * 24),
    HOLDOUT_HOURS: '24',
    TRAIN_WINDOW_END: WINDOW_END.toISOString(),
    // Small synthetic data: a weaker model, noisier calibration, fewer rows than production defaults expect.
    FTRL_ALPHA: '0.1',
    FTRL_L1: '0.5',
    GATE_MIN_AUC: '0.55',
    GATE_MAX_NE: '0.995',
    GATE_MIN_TRAIN_ROWS: '5000',
    GATE_MIN_HOLDOUT_ROWS: '1000',
    GATE_MIN_HOLDOUT_CLICKS: '50',
    GATE_CALIBRATION_MIN: '0.6',
    GATE_CALIBRATION_MAX: '1.4',
    PROGRESS_INTERVAL_SECONDS: '0.05',
    ROLLOUT_POLL_SECONDS: '0.02',
    ROLLOUT_TIMEOUT_SECONDS: '10',
    K8S_NAMESPACE: 'ads',
    K8S_DEPLOYMENT: 'inference',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export interface LogLine {
  level: string;
  msg: string;
  outcome?: string;
  [key: string]: unknown;
}

/** Runs the CLI in-process, collecting its JSON log lines (each checked for duplicate keys) and its stdout. */
export async function cli(
  argv: string[],
  env: Env,
  io: Partial<CliIo> = {},
): Promise<{ code: number; logs: LogLine[]; stdout: string; stderr: string }> {
  const logs: LogLine[] = [];
  let stdout = '';
  let stderr = '';
  // Every line of every command an end-to-end test runs: a key twice in a line fails the test.
  const logDestination = jsonLineSink((line) => logs.push(line as LogLine));
  const out = new Writable({
    write(chunk, _enc, cb) {
      stdout += String(chunk);
      cb();
    },
  });
  const err = new Writable({
    write(chunk, _enc, cb) {
      stderr += String(chunk);
      cb();
    },
  });
  const code = await runCli(argv, { env, logDestination, stdout: out, stderr: err, ...io });
  return { code, logs, stdout, stderr };
}

/**
 * `trainer run` against MLflow behind libs/mlflow's fault proxy, `decide` choosing what happens to each
 * request (for what a real MLflow cannot be made to do: an answer lost after it acted, going away mid-run):
 * the run's result, and the requests the proxy saw and whether a `stop` stopped it.
 */
export async function runBehindFaultProxy(
  env: Env,
  decide: (method: string, path: string) => ProxyAction,
): Promise<Awaited<ReturnType<typeof cli>> & { proxy: { seen: string[]; stopped: boolean } }> {
  const proxy = await startFaultProxy(trackingUri(), decide);
  try {
    const result = await cli(['run'], { ...env, MLFLOW_TRACKING_URI: proxy.url });
    return { ...result, proxy: { seen: proxy.seen, stopped: proxy.stopped } };
  } finally {
    await proxy.close();
  }
}

export function mlflowClient(): MlflowClient {
  return createMlflowClient({ trackingUri: trackingUri() });
}

/** The hyper-parameter search's candidates of a training run: its nested runs (tag mlflow.parentRunId). */
export function searchTrials(mlflow: MlflowClient, run: Run): Promise<Run[]> {
  return mlflow.searchAllRuns({
    experimentIds: [run.info.experimentId],
    filter: `tags.\`mlflow.parentRunId\` = '${run.info.runId}'`,
  });
}

/**
 * The models and schemas a test file works with, named `<tag>-<hex>` and `<tag>_<hex>` with one
 * random suffix per file (parallel runs never meet); after all of the file's tests every model named
 * is deleted from MLflow with its experiment, and every schema dropped. Call it at the file's top level.
 */
export function e2eNames(): { model(tag: string): string; schema(tag: string): string } {
  const suffix = uniqueSuffix();
  const models: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    for (const model of models) await cleanUp(model, []);
    for (const schema of schemas) await dropSchema({ db: databaseUrl(), schema });
  });
  const named = (list: string[], name: string) => {
    list.push(name);
    return name;
  };
  return {
    model: (tag) => named(models, `${tag}-${suffix}`),
    schema: (tag) => named(schemas, `${tag}_${suffix}`),
  };
}

/**
 * `count` versions of `modelName`, registered from one run of its experiment (its `model/` directory as
 * source, nothing in it): for tests of the registry and its aliases. Returns that run.
 */
export async function registerVersions(
  mlflow: MlflowClient,
  modelName: string,
  count: number,
  tags?: Record<string, string>,
): Promise<Run> {
  const experiment = await mlflow.getOrCreateExperiment(modelName);
  const run = await mlflow.createRun({ experimentId: experiment.experimentId });
  await mlflow.getOrCreateRegisteredModel(modelName);
  for (let i = 0; i < count; i++) {
    await mlflow.createModelVersion({
      name: modelName,
      source: `${run.info.artifactUri}/model`,
      runId: run.info.runId,
      tags,
    });
  }
  return run;
}

/** Deletes the test's registered model, experiment and schema. */
export async function cleanUp(modelName: string, schemas: string[]): Promise<void> {
  const mlflow = mlflowClient();
  await mlflow.deleteRegisteredModel(modelName).catch(() => undefined);
  const experiment = await mlflow.getExperimentByName(modelName).catch(() => undefined);
  if (experiment) await mlflow.deleteExperiment(experiment.experimentId).catch(() => undefined);
  for (const schema of schemas) await dropSchema({ db: databaseUrl(), schema });
}
