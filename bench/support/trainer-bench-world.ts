/**
 * What the trainer benchmarks share: the services' addresses, the synthetic week they train on
 * (schema trainer_bench_<rows>, generated once and reused), and one trainer `run` in a child process
 * (so its CPU time and peak RSS are its own).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { generateTraffic } from '@fallback-ctr/clicklog';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import pg from 'pg';

export const DAYS = 7;
export const START = new Date('2026-02-01T00:00:00.000Z');
export const END = new Date(START.getTime() + DAYS * 86_400_000);
export const HOLDOUT_HOURS = 24;
/** The trainer's default ATTRIBUTION_WINDOW_MINUTES. */
export const ATTRIBUTION_MINUTES = 60;

/** process.env plus DATABASE_URL / MLFLOW_TRACKING_URI from scripts/services.sh when unset. */
export function serviceEnv(): NodeJS.ProcessEnv & { DATABASE_URL: string; MLFLOW_TRACKING_URI: string } {
  const env = { ...process.env };
  if (!env.DATABASE_URL || !env.MLFLOW_TRACKING_URI) {
    const script = fileURLToPath(new URL('../../scripts/services.sh', import.meta.url));
    const out = execFileSync('bash', [script, 'env'], { encoding: 'utf8' });
    for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]!] ??= m[2]!;
  }
  if (!env.DATABASE_URL || !env.MLFLOW_TRACKING_URI) throw new Error('DATABASE_URL / MLFLOW_TRACKING_URI are not set');
  return env as NodeJS.ProcessEnv & { DATABASE_URL: string; MLFLOW_TRACKING_URI: string };
}

async function rowCount(db: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.impressions`);
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return 0;
  } finally {
    await client.end();
  }
}

/** Makes sure schema trainer_bench_<size> holds the week of traffic; returns it and the ms spent generating (0: reused). */
export async function ensureBenchTraffic(db: string, size: number): Promise<{ schema: string; generateMs: number }> {
  const schema = `trainer_bench_${size}`;
  const perDay = Math.round(size / DAYS);
  if ((await rowCount(db, schema)) === perDay * DAYS) return { schema, generateMs: 0 };
  const t = Date.now();
  await generateTraffic({ db, schema, replace: true, seed: 5, days: DAYS, impressionsPerDay: perDay, start: START });
  return { schema, generateMs: Date.now() - t };
}

export interface TrainerChildResult {
  code: number;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
  /** Ms since start at which each log message (its text up to the first digit) was last seen. */
  phases: Record<string, number>;
  holdoutLogloss: number | null;
}

/** One `trainer run` (rollout mode none) on the bench week, in a child process. */
export async function runTrainerChild(
  env: NodeJS.ProcessEnv,
  schema: string,
  modelName: string,
  extraEnv: Record<string, string> = {},
): Promise<TrainerChildResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', fileURLToPath(new URL('../trainer-run-child.ts', import.meta.url))],
    {
      env: {
        ...env,
        CLICKLOG_SCHEMA: schema,
        MODEL_NAME: modelName,
        TRAIN_WINDOW_HOURS: String(DAYS * 24),
        HOLDOUT_HOURS: String(HOLDOUT_HOURS),
        ATTRIBUTION_WINDOW_MINUTES: String(ATTRIBUTION_MINUTES),
        TRAIN_WINDOW_END: END.toISOString(),
        ROLLOUT_MODE: 'none',
        LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c) => {
    out += String(c);
  });
  await once(child, 'exit');
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as TrainerChildResult;
}

/** Deletes the bench's registered model and experiment from MLflow. */
export async function forgetModel(trackingUri: string, modelName: string): Promise<void> {
  const mlflow = createMlflowClient({ trackingUri });
  await mlflow.deleteRegisteredModel(modelName).catch(() => undefined);
  const exp = await mlflow.getExperimentByName(modelName).catch(() => undefined);
  if (exp) await mlflow.deleteExperiment(exp.experimentId).catch(() => undefined);
}
