import { createHash } from 'node:crypto';
import { type Logger, type SqlMigration as Migration, runSqlMigrations, silentLogger } from '@fallback-ctr/runtime';
import { type Queryable, resolveSchema, withClient } from './connection.js';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { ClicklogTarget } from './target.js';

export interface MigrateOptions extends ClicklogTarget {
  logger?: Logger;
}

export interface MigrateResult {
  schema: string;
  /** Names of the migrations applied by this call, in order (empty when already up to date). */
  applied: string[];
  /** Name of the latest migration now in the schema. */
  current: string;
}

/** Advisory-lock class of the click-log migrations (prediction-log has its own); the second key is the schema's hash. */
const LOCK_CLASS = 0x0c1c_0001;
const MIGRATIONS_TABLE = 'schema_migrations';

function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql('__schema__')).digest('hex');
}

/**
 * Creates the schema if needed and applies every pending migration, each in its own transaction,
 * under a per-schema advisory lock (concurrent callers wait, then find nothing to do). Idempotent.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  return runMigrations(options, MIGRATIONS);
}

/** The runner behind migrate(), with the migration list as a parameter (tests feed it failing ones). */
export async function runMigrations(options: MigrateOptions, migrations: readonly Migration[]): Promise<MigrateResult> {
  const schema = resolveSchema(options);
  const logger = (options.logger ?? silentLogger()).child({ schema });
  return withClient(options.db, async (client) => {
    const applied = await runSqlMigrations({
      client,
      schema,
      lockClass: LOCK_CLASS,
      migrations,
      applied: () => appliedMigrations(client, schema, migrations, logger),
      record: (migration) =>
        client.query(`INSERT INTO ${schema}.${MIGRATIONS_TABLE} (name, checksum) VALUES ($1, $2)`, [
          migration.name,
          checksum(migration),
        ]),
      failed: (message, cause) => new ClicklogError(ClicklogErrorCode.MIGRATION_FAILED, message, { cause }),
      onApplied: (migration) => logger.info({ migration: migration.name }, 'migration applied'),
    });
    const current = migrations[migrations.length - 1]?.name ?? '';
    return { schema, applied, current };
  });
}

/**
 * The names recorded in the schema (the table created if needed). A name this code does not know means a
 * newer version migrated the schema: refused. A known one whose SQL changed since is only logged.
 */
async function appliedMigrations(
  client: Queryable,
  schema: string,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<Set<string>> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.${MIGRATIONS_TABLE} (
       name text PRIMARY KEY,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await client.query<{ name: string; checksum: string }>(
    `SELECT name, checksum FROM ${schema}.${MIGRATIONS_TABLE} ORDER BY name`,
  );
  const known = new Map(migrations.map((m) => [m.name, m]));
  const unknown = rows.filter((r) => !known.has(r.name)).map((r) => r.name);
  if (unknown.length > 0) {
    throw new ClicklogError(
      ClicklogErrorCode.MIGRATION_UNKNOWN,
      `Schema "${schema}" has migrations this version of @fallback-ctr/clicklog does not know (${unknown.join(', ')}): it was migrated by a newer version; upgrade this code or use another schema`,
    );
  }
  for (const row of rows) {
    const migration = known.get(row.name);
    if (migration && checksum(migration) !== row.checksum) {
      logger.warn({ migration: row.name }, 'applied migration differs from the code (edited after release?)');
    }
  }
  return new Set(rows.map((r) => r.name));
}

/** Drops the schema and everything in it (test clean-up). No error when it does not exist. */
export async function dropSchema(target: ClicklogTarget): Promise<void> {
  const schema = resolveSchema(target);
  await withClient(target.db, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
}
