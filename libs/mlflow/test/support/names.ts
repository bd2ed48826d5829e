import { randomBytes } from 'node:crypto';

/** A name no other test (or engineer) uses on the shared MLflow server. */
export function uniqueName(prefix: string): string {
  return `mlflowlib-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function sharedTrackingUri(): string {
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (!uri)
    throw new Error('MLFLOW_TRACKING_URI is not set: run the tests with vitest (its global set-up starts MLflow)');
  return uri;
}
