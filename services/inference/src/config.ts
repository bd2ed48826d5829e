import { availableParallelism } from 'node:os';
import { MlflowEnvSchema } from '@fallback-ctr/mlflow';
import { type Env, envInt, envList, envNumber, logLevel, parseEnv } from '@fallback-ctr/runtime';
import { z } from 'zod';

/**
 * Every environment variable the inference server reads. Keys are the variable names, so the
 * Kubernetes manifests can be checked against `Object.keys(InferenceEnvSchema.shape)`.
 */
export const InferenceEnvSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: envInt(0, 65_535).default(8080),
  /** Cluster workers; default = the CPUs this process may use. */
  WORKERS: envInt(1, 256).optional(),
  MLFLOW_TRACKING_URI: z.url(),
  MODEL_NAME: z.string().min(1).default('fallback-ctr'),
  MODEL_ALIAS: z
    .string()
    .regex(/^[\w-]+$/, 'an MLflow alias (letters, digits, _ and -)')
    .default('champion'),
  /** Pins a registered version; when set, MODEL_ALIAS is ignored. */
  MODEL_VERSION: z
    .string()
    .regex(/^[1-9]\d*$/, 'a positive integer')
    .optional(),
  /** Give up (exit non-zero) if the model is not loaded within this time. */
  STARTUP_DEADLINE_SECONDS: envNumber().pipe(z.number().positive()).default(120),
  MAX_BATCH_SIZE: envInt(1, 100_000).default(1000),
  BODY_LIMIT_BYTES: envInt(1024, 256 * 1024 * 1024).default(1024 * 1024),
  /** Comma-separated bearer tokens for /predict; empty = no auth. */
  API_TOKENS: envList().default([]),
  /** After SIGTERM: time /readyz reports 503 while still serving, so load balancers stop sending. */
  SHUTDOWN_DRAIN_SECONDS: envNumber().pipe(z.number().min(0)).default(5),
  /** After the drain: time in-flight requests get to finish before the process exits anyway. */
  SHUTDOWN_GRACE_SECONDS: envNumber().pipe(z.number().positive()).default(10),
  LOG_LEVEL: logLevel().default('info'),
});
export type InferenceEnv = z.output<typeof InferenceEnvSchema>;

/**
 * Every variable the server reads: its own plus the MLflow client's standard ones
 * (MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN, MLFLOW_HTTP_REQUEST_TIMEOUT, ...).
 */
export const INFERENCE_ENV_NAMES: readonly string[] = [
  ...new Set([...Object.keys(InferenceEnvSchema.shape), ...Object.keys(MlflowEnvSchema.shape)]),
];

export interface InferenceConfig {
  host: string;
  port: number;
  workers: number;
  mlflowTrackingUri: string;
  modelName: string;
  /** The alias resolved at start-up when no version is pinned. */
  modelAlias: string;
  modelVersion: string | undefined;
  startupDeadlineMs: number;
  maxBatchSize: number;
  bodyLimitBytes: number;
  apiTokens: readonly string[];
  drainMs: number;
  graceMs: number;
  logLevel: InferenceEnv['LOG_LEVEL'];
}

/** Reads and validates the environment; throws one ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): InferenceConfig {
  const e = parseEnv(InferenceEnvSchema, env);
  return {
    host: e.HOST,
    port: e.PORT,
    workers: e.WORKERS ?? availableParallelism(),
    mlflowTrackingUri: e.MLFLOW_TRACKING_URI,
    modelName: e.MODEL_NAME,
    modelAlias: e.MODEL_ALIAS,
    modelVersion: e.MODEL_VERSION,
    startupDeadlineMs: Math.round(e.STARTUP_DEADLINE_SECONDS * 1000),
    maxBatchSize: e.MAX_BATCH_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    apiTokens: e.API_TOKENS,
    drainMs: Math.round(e.SHUTDOWN_DRAIN_SECONDS * 1000),
    graceMs: Math.round(e.SHUTDOWN_GRACE_SECONDS * 1000),
    logLevel: e.LOG_LEVEL,
  };
}
