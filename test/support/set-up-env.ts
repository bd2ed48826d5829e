/**
 * A variable the vitest global set-up exports (the services' URLs, the Python, the cluster's
 * kubeconfig): its value, or an error that says to run the tests through vitest.
 */
export function setUpVariable(name: string, setBy = 'its global set-up sets it'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through vitest (${setBy})`);
  return value;
}

/** The shared PostgreSQL the global set-up started. */
export const databaseUrl = (): string => setUpVariable('DATABASE_URL', 'its global set-up starts Postgres');

/** The shared MLflow server the global set-up started. */
export const trackingUri = (): string => setUpVariable('MLFLOW_TRACKING_URI', 'its global set-up starts MLflow');
