import { runSqlMigrations, type SqlMigration } from '@fallback-ctr/runtime';
import pg from 'pg';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';
import { PREDICTION_LOG_MIGRATIONS } from './predictions-table.js';
import { type PredictionLogTarget, resolveSchema } from './target.js';

/** Its own advisory-lock class and bookkeeping table: independent of the click logs' migrations. */
const LOCK_CLASS = 0x0c1c_0002;
const MIGRATIONS_TABLE = 'prediction_log_migrations';

export interface PredictionLogMigrateResult {
  schema: string;
  /** Migrations applied by this call, in order (empty when already up to date). */
  applied: string[];
}

/**
 * Creates the schema if needed and applies the pending predictions-log migrations, each in its own
 * transaction, under a per-schema advisory lock (concurrent callers wait, then find nothing to do).
 * Idempotent. Run by `trainer monitor` and the tests; the inference API only writes.
 */
export async function migratePredictionLog(
  target: PredictionLogTarget,
  migrations: readonly SqlMigration[] = PREDICTION_LOG_MIGRATIONS,
): Promise<PredictionLogMigrateResult> {
  const schema = resolveSchema(target);
  const own = typeof target.db === 'string' ? new pg.Client({ connectionString: target.db }) : undefined;
  if (own) await own.connect();
  const client = own ?? (await (target.db as pg.Pool).connect());
  try {
    const applied = await runSqlMigrations({
      client,
      schema,
      lockClass: LOCK_CLASS,
      migrations,
      applied: async () => {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.${MIGRATIONS_TABLE} (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${schema}.${MIGRATIONS_TABLE}`);
        return new Set(rows.map((r) => r.name));
      },
      record: (migration) =>
        client.query(`INSERT INTO ${schema}.${MIGRATIONS_TABLE} (name) VALUES ($1)`, [migration.name]),
      failed: (message, cause) => new PredictionLogError(PredictionLogErrorCode.MIGRATION_FAILED, message, { cause }),
    });
    return { schema, applied };
  } finally {
    if (own) await own.end().catch(() => undefined);
    else (client as pg.PoolClient).release();
  }
}
