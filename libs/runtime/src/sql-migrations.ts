import { errorMessage } from './error-message.js';

/** One forward-only migration: SQL for a given (already validated, unquoted-safe) schema name. */
export interface SqlMigration {
  /** Sortable, unique, never renamed once released. */
  name: string;
  sql(schema: string): string;
}

/**
 * What the runner needs of a PostgreSQL connection. pg's Client and PoolClient fit it, so runtime needs
 * no pg: the package that owns the migrations owns the connection.
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** One package's migrations and its own bookkeeping (table, checksums, error code). */
export interface SqlMigrationRun<M extends SqlMigration> {
  client: SqlClient;
  schema: string;
  /** The package's advisory-lock class; the second key is the schema's hash, so schemas do not wait on each other. */
  lockClass: number;
  migrations: readonly M[];
  /** Under the lock, the schema existing: creates the bookkeeping table if needed; the names it records. */
  applied(): Promise<ReadonlySet<string>>;
  /** Records `migration` as applied, inside its transaction. */
  record(migration: M): Promise<unknown>;
  /** The package's error for a migration that failed and was rolled back; `message` says which, where and why. */
  failed(message: string, cause: unknown): Error;
  onApplied?(migration: M): void;
}

/**
 * Creates the schema if needed and applies every pending migration in list order, each in its own
 * transaction, under a per-schema advisory lock (concurrent callers wait, then find nothing to do).
 * Returns the names applied by this call.
 */
export async function runSqlMigrations<M extends SqlMigration>(run: SqlMigrationRun<M>): Promise<string[]> {
  const { client, schema, lockClass } = run;
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [lockClass, schema]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const done = await run.applied();
    const applied: string[] = [];
    for (const migration of run.migrations) {
      if (done.has(migration.name)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql(schema));
        await run.record(migration);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw run.failed(
          `Migration ${migration.name} failed on schema "${schema}" and was rolled back: ${errorMessage(error)}`,
          error,
        );
      }
      run.onApplied?.(migration);
      applied.push(migration.name);
    }
    return applied;
  } finally {
    // A broken connection drops the session lock by itself; do not mask the original error.
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [lockClass, schema]).catch(() => undefined);
  }
}
