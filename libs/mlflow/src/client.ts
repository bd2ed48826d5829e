import type { Env } from '@fallback-ctr/runtime';
import { type ArtifactApi, createArtifactApi } from './artifacts.js';
import { ClientOptionsSchema, type MlflowClientOptions, optionsFromEnv } from './client-options.js';
import { MlflowError, MlflowErrorCode } from './errors.js';
import { createRegistryApi, type RegistryApi } from './registry.js';
import { createTrackingApi, type TrackingApi } from './tracking.js';
import { createTransport } from './transport.js';

/**
 * The MLflow client: one object with the tracking, artifact and registry APIs, each of which
 * declares and implements its own methods (as MLflow's client delegates to its tracking and
 * registry clients).
 */
export interface MlflowClient extends TrackingApi, ArtifactApi, RegistryApi {
  /** Base URL of the tracking server, without credentials. */
  readonly trackingUri: string;
}

export function createMlflowClient(options: MlflowClientOptions): MlflowClient {
  const parsed = ClientOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new MlflowError(
      MlflowErrorCode.CONFIG_INVALID,
      `invalid MLflow client options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { cause: parsed.error },
    );
  }
  const transport = createTransport(parsed.data, options.logger, options.retryHooks ?? {});
  const tracking = createTrackingApi(transport);
  const artifacts = createArtifactApi(transport);
  const registry = createRegistryApi(transport, artifacts);
  return { trackingUri: transport.baseUrl, ...tracking, ...artifacts, ...registry };
}

/**
 * A client from MLflow's standard environment variables: MLFLOW_TRACKING_URI,
 * MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (Basic) or MLFLOW_TRACKING_TOKEN (Bearer),
 * MLFLOW_HTTP_REQUEST_TIMEOUT (s), MLFLOW_HTTP_REQUEST_MAX_RETRIES. Throws ConfigError when invalid.
 */
export function mlflowClientFromEnv(
  env: Env = process.env,
  extra: Omit<MlflowClientOptions, 'trackingUri' | 'auth'> = {},
): MlflowClient {
  const fromEnv = optionsFromEnv(env);
  return createMlflowClient({ ...fromEnv, ...extra });
}
