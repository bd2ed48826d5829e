import { type Env, parseEnv, type RetryOptions } from '@fallback-ctr/runtime';
import type { Logger } from 'pino';
import { z } from 'zod';

export const AuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
]);
export type MlflowAuth = z.output<typeof AuthSchema>;

/**
 * Retry policy for calls that are safe to repeat. The defaults ride out a restart of the server
 * of up to two minutes (MLflow itself takes 10–30 s to start): attempts back off to one every
 * 10 s until the deadline, so a call fails after about two minutes of the server being away.
 */
export const RetryPolicySchema = z.object({
  /** Attempts in all, the first included. */
  maxAttempts: z.number().int().min(1).max(100).default(40),
  initialDelayMs: z.number().int().min(0).default(250),
  maxDelayMs: z.number().int().min(0).default(10_000),
  /** Overall budget for one call, all attempts and waits included: no attempt starts after it. */
  deadlineMs: z.number().int().positive().default(120_000),
});
export type RetryPolicy = z.output<typeof RetryPolicySchema>;

export const ClientOptionsSchema = z.object({
  /** e.g. http://127.0.0.1:5000 (a path prefix such as http://host/mlflow is kept). */
  trackingUri: z.url({ protocol: /^https?$/, error: 'an http(s) URL such as http://127.0.0.1:5000' }),
  auth: AuthSchema.optional(),
  /** Timeout of one JSON request. */
  timeoutMs: z.number().int().positive().default(30_000),
  /** Timeout of one artifact upload or download (the whole transfer). */
  artifactTimeoutMs: z.number().int().positive().default(600_000),
  /** How long `createModelVersion` waits while the version is PENDING_REGISTRATION. */
  registrationTimeoutMs: z.number().int().positive().default(300_000),
  retry: RetryPolicySchema.default(RetryPolicySchema.parse({})),
});

export type MlflowClientOptions = z.input<typeof ClientOptionsSchema> & {
  /** pino logger; requests are logged at debug, retries at warn. Bodies and credentials never are. */
  logger?: Logger;
  /** Extra retry hooks (e.g. a shutdown signal) merged into every retried call. */
  retryHooks?: Pick<RetryOptions, 'signal' | 'onRetry'>;
};
export type ResolvedClientOptions = z.output<typeof ClientOptionsSchema>;

export const MlflowEnvSchema = z.object({
  MLFLOW_TRACKING_URI: z
    .url({ protocol: /^https?$/, error: 'an http(s) URL such as http://127.0.0.1:5000' })
    .describe('MLflow tracking server (tracking, model registry, artifact proxy).'),
  MLFLOW_TRACKING_USERNAME: z
    .string()
    .optional()
    .describe('Basic-auth user, for a server started with --app-name basic-auth.'),
  MLFLOW_TRACKING_PASSWORD: z.string().optional().describe('Basic-auth password (never logged).'),
  MLFLOW_TRACKING_TOKEN: z.string().optional().describe('Bearer token; takes precedence over user and password.'),
  MLFLOW_HTTP_REQUEST_TIMEOUT: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe("Per-request timeout in seconds (default: the client's own)."),
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(19)
    .optional()
    .describe(
      'Retries of idempotent calls on network errors, 429 and 5xx; default: as many as fit in two minutes (a server restart).',
    ),
});

/** Options from MLflow's standard environment variables (the names MLflow's own client reads). */
export function optionsFromEnv(env: Env = process.env): MlflowClientOptions {
  const e = parseEnv(MlflowEnvSchema, env);
  let auth: MlflowAuth | undefined;
  if (e.MLFLOW_TRACKING_TOKEN) auth = { type: 'bearer', token: e.MLFLOW_TRACKING_TOKEN };
  else if (e.MLFLOW_TRACKING_USERNAME)
    auth = { type: 'basic', username: e.MLFLOW_TRACKING_USERNAME, password: e.MLFLOW_TRACKING_PASSWORD ?? '' };
  const options: MlflowClientOptions = { trackingUri: e.MLFLOW_TRACKING_URI };
  if (auth) options.auth = auth;
  // MLflow's own variable is in seconds.
  if (e.MLFLOW_HTTP_REQUEST_TIMEOUT) options.timeoutMs = e.MLFLOW_HTTP_REQUEST_TIMEOUT * 1000;
  if (e.MLFLOW_HTTP_REQUEST_MAX_RETRIES !== undefined)
    options.retry = { maxAttempts: e.MLFLOW_HTTP_REQUEST_MAX_RETRIES + 1 };
  return options;
}
