import { availableParallelism } from 'node:os';
import { MlflowEnvSchema } from '@fallback-ctr/mlflow';
import { CHAMPION_ALIAS, DEFAULT_MAX_ARTIFACT_BYTES } from '@fallback-ctr/model';
import {
  DEFAULT_SCHEMA as PREDICTION_LOG_DEFAULT_SCHEMA,
  type PredictionLogWriterSettings,
} from '@fallback-ctr/prediction-log';
import {
  ConfigError,
  type Env,
  envInt,
  envList,
  envNumber,
  logLevel,
  parseEnv,
  SchemaNameSchema,
} from '@fallback-ctr/runtime';
import { z } from 'zod';

/**
 * Every environment variable the inference server reads. Keys are the variable names, so the
 * Kubernetes manifests can be checked against `Object.keys(InferenceEnvSchema.shape)`.
 */
export const InferenceEnvSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0').describe('Address to listen on.'),
  PORT: envInt(0, 65_535).default(8080).describe('Port of the HTTP API (predict, health, readiness, metrics, docs).'),
  WORKERS: envInt(1, 256)
    .optional()
    .describe('Cluster workers; default = the CPUs this process may use (set it from the CPU limit in containers).'),
  MLFLOW_TRACKING_URI: MlflowEnvSchema.shape.MLFLOW_TRACKING_URI,
  MODEL_NAME: z.string().min(1).default('fallback-ctr').describe('Registered model to serve.'),
  MODEL_ALIAS: z
    .string()
    .regex(/^[\w-]+$/, 'an MLflow alias (letters, digits, _ and -)')
    .default(CHAMPION_ALIAS)
    .describe('Alias resolved once at start-up.'),
  MODEL_VERSION: z
    .string()
    .regex(/^[1-9]\d*$/, 'a positive integer')
    .optional()
    .describe('Pins a registered version; when set, MODEL_ALIAS is ignored.'),
  SHADOW_ALIAS: z
    .string()
    .regex(/^[\w-]+$/, 'an MLflow alias (letters, digits, _ and -)')
    .optional()
    .describe(
      'Alias of a challenger scored in shadow beside the served model (e.g. challenger); unset = no shadow. Resolved once at start-up; its absence never delays readiness.',
    ),
  SHADOW_SHARE: envNumber()
    .pipe(z.number().min(0).max(1))
    .default(1)
    .describe(
      'Share of /predict requests the shadow model also scores, after the answer is sent; its scores are never returned, only logged.',
    ),
  STARTUP_DEADLINE_SECONDS: envNumber()
    .pipe(z.number().positive())
    .default(120)
    .describe(
      'Until then the pod waits, not ready, for MLflow and for a version with the alias (a new install has no champion until the first trainer run); then it gives up (exit 1, Kubernetes restarts it).',
    ),
  MAX_BATCH_SIZE: envInt(1, 100_000).default(1000).describe('Most impressions in one POST /predict.'),
  BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest request body; larger ones get 413.'),
  REQUEST_TIMEOUT_SECONDS: envNumber()
    .pipe(z.number().min(0.1).max(600))
    .default(10)
    .describe('Most time to receive a whole request (headers and body); a request that trickles in slower gets 408.'),
  MAX_ARTIFACT_BYTES: envInt(1024, 2 ** 31)
    .default(DEFAULT_MAX_ARTIFACT_BYTES)
    .describe(
      'Largest model artifact file accepted, checked against the registry listing and while downloading (a 2^24-bucket dense model is about 90 MB).',
    ),
  API_TOKENS: envList()
    .refine((tokens) => tokens.length > 0, 'at least one non-empty token (unset the variable to turn auth off)')
    .default([])
    .describe('Comma-separated bearer tokens for /predict; unset = no auth (logged at start).'),
  SHUTDOWN_DRAIN_SECONDS: envNumber()
    .pipe(z.number().min(0))
    .default(5)
    .describe('After SIGTERM: time /readyz reports 503 while still serving, so load balancers stop sending.'),
  SHUTDOWN_GRACE_SECONDS: envNumber()
    .pipe(z.number().positive())
    .default(10)
    .describe('After the drain: time in-flight requests get to finish before the process exits anyway.'),
  LOG_LEVEL: logLevel().default('info').describe('pino log level.'),
  PREDICTION_LOG_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional()
    .describe(
      "PostgreSQL to log served predictions to (the click logs' database); unset = no prediction log. Each worker opens one connection.",
    ),
  PREDICTION_LOG_SCHEMA: SchemaNameSchema.default(PREDICTION_LOG_DEFAULT_SCHEMA).describe(
    'Schema of the `predictions` table (beside the click logs; `trainer monitor` creates it).',
  ),
  PREDICTION_LOG_SAMPLE_RATE: envNumber()
    .pipe(z.number().min(0).max(1))
    .default(1)
    .describe('Share of impressions logged, chosen by a hash of the impression id (the same ids on every pod).'),
  PREDICTION_LOG_QUEUE_SIZE: envInt(1, 10_000_000)
    .default(50_000)
    .describe('Most entries waiting per worker; beyond it entries are dropped and counted, /predict never waits.'),
  PREDICTION_LOG_BATCH_SIZE: envInt(1, 1_000_000)
    .default(10_000)
    .describe(
      'Most entries per COPY. Each COPY costs the worker a fixed ~0.5 ms of CPU, so below this many entries a second the log writes once per PREDICTION_LOG_FLUSH_SECONDS.',
    ),
  PREDICTION_LOG_FLUSH_SECONDS: envNumber()
    .pipe(z.number().min(0.01).max(3600))
    .default(1)
    .describe('A partial batch is written at least this often.'),
  PREDICTION_LOG_WRITE_TIMEOUT_SECONDS: envNumber()
    .pipe(z.number().min(0.1).max(600))
    .default(5)
    .describe('A COPY (or its connect) slower than this fails; its entries are dropped and counted.'),
});
export type InferenceEnv = z.output<typeof InferenceEnvSchema>;

/**
 * Every variable the server reads: its own plus the MLflow client's standard ones
 * (MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN, MLFLOW_HTTP_REQUEST_TIMEOUT, ...).
 */
export const INFERENCE_ENV_NAMES: readonly string[] = [
  ...new Set([...Object.keys(InferenceEnvSchema.shape), ...Object.keys(MlflowEnvSchema.shape)]),
];

/** The server's settings, typed from the schema through `loadConfig` (no second, hand-written shape). */
export type InferenceConfig = ReturnType<typeof loadConfig>;

/** The prediction log's settings (undefined in InferenceConfig when PREDICTION_LOG_DATABASE_URL is unset). */
export interface PredictionLogConfig extends PredictionLogWriterSettings {
  databaseUrl: string;
  schema: string;
}

/** Reads and validates the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env) {
  const e = parseEnv(InferenceEnvSchema, env);
  if (e.PREDICTION_LOG_BATCH_SIZE > e.PREDICTION_LOG_QUEUE_SIZE) {
    throw new ConfigError([
      {
        variable: 'PREDICTION_LOG_BATCH_SIZE',
        expected: `at most PREDICTION_LOG_QUEUE_SIZE (${e.PREDICTION_LOG_QUEUE_SIZE})`,
        received: String(e.PREDICTION_LOG_BATCH_SIZE),
      },
    ]);
  }
  const predictionLog: PredictionLogConfig | undefined =
    e.PREDICTION_LOG_DATABASE_URL === undefined
      ? undefined
      : {
          databaseUrl: e.PREDICTION_LOG_DATABASE_URL,
          schema: e.PREDICTION_LOG_SCHEMA,
          sampleRate: e.PREDICTION_LOG_SAMPLE_RATE,
          maxQueue: e.PREDICTION_LOG_QUEUE_SIZE,
          batchSize: e.PREDICTION_LOG_BATCH_SIZE,
          flushIntervalMs: Math.round(e.PREDICTION_LOG_FLUSH_SECONDS * 1000),
          writeTimeoutMs: Math.round(e.PREDICTION_LOG_WRITE_TIMEOUT_SECONDS * 1000),
        };
  return {
    host: e.HOST,
    port: e.PORT,
    workers: e.WORKERS ?? availableParallelism(),
    modelName: e.MODEL_NAME,
    /** The alias resolved at start-up when no version is pinned. */
    modelAlias: e.MODEL_ALIAS,
    modelVersion: e.MODEL_VERSION,
    /** The challenger scored in shadow; undefined = shadow off. */
    shadow: e.SHADOW_ALIAS === undefined ? undefined : { alias: e.SHADOW_ALIAS, share: e.SHADOW_SHARE },
    startupDeadlineMs: Math.round(e.STARTUP_DEADLINE_SECONDS * 1000),
    maxBatchSize: e.MAX_BATCH_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    requestTimeoutMs: Math.round(e.REQUEST_TIMEOUT_SECONDS * 1000),
    maxArtifactBytes: e.MAX_ARTIFACT_BYTES,
    apiTokens: e.API_TOKENS,
    drainMs: Math.round(e.SHUTDOWN_DRAIN_SECONDS * 1000),
    graceMs: Math.round(e.SHUTDOWN_GRACE_SECONDS * 1000),
    logLevel: e.LOG_LEVEL,
    /** Undefined when PREDICTION_LOG_DATABASE_URL is unset (the default): nothing is logged. */
    predictionLog,
  };
}
