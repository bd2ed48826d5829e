import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { databaseUrl } from '../../../test/support/set-up-env.js';
import {
  type ClickRecord,
  dropSchema,
  type ImpressionRecord,
  migrate,
  writeClicks,
  writeImpressions,
} from '../src/index.js';

export { databaseUrl };

/** A schema name of its own per test file and call, so parallel test runs never collide. */
export function uniqueSchema(tag: string): string {
  return `clicklog_t_${tag}_${randomBytes(4).toString('hex')}`;
}

export function createPool(max = 4): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl(), max });
}

export function createPoolFor(connectionString: string, max = 1): pg.Pool {
  return new pg.Pool({ connectionString, max });
}

/** Minutes after a fixed instant, so tests never depend on the clock. */
export const T0 = new Date('2020-03-02T12:00:00.000Z');
export function at(minutes: number): Date {
  return new Date(T0.getTime() + minutes * 60_000);
}

/**
 * A migrated click-log schema of the test file's own, holding `logs`: migrated and written in
 * beforeAll, dropped with everything in it (and the pool ended) in afterAll. Call it at the file's
 * top level, after the rows are built.
 */
export function useSeededSchema(
  tag: string,
  logs: { impressions: ImpressionRecord[]; clicks?: ClickRecord[] },
  maxConnections = 4,
): { pool: pg.Pool; schema: string } {
  const pool = createPool(maxConnections);
  const schema = uniqueSchema(tag);
  beforeAll(async () => {
    await migrate({ db: pool, schema });
    await writeImpressions({ db: pool, schema, rows: logs.impressions });
    if (logs.clicks) await writeClicks({ db: pool, schema, rows: logs.clicks });
  });
  afterAll(async () => {
    await dropSchema({ db: pool, schema });
    await pool.end();
  });
  return { pool, schema };
}

/**
 * For files whose tests each make schemas of their own: `schemaFor(tag)` names a new one, and
 * afterAll drops every one named (and ends the pool).
 */
export function schemasDroppedAfterAll(pool: pg.Pool, prefix: string): (tag: string) => string {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropSchema({ db: pool, schema });
    await pool.end();
  });
  return (tag) => {
    const schema = uniqueSchema(`${prefix}_${tag}`);
    schemas.push(schema);
    return schema;
  };
}
