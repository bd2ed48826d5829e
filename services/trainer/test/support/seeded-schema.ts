import { dropSchema } from '@fallback-ctr/clicklog';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { databaseUrl, seedTraffic, uniqueSuffix } from './e2e.js';

/**
 * A schema of this test file's own, seeded with the synthetic traffic before its tests and dropped
 * after them, and a small pool on the test database.
 */
export function useSeededSchema(prefix: string): { schema: string; pool: pg.Pool } {
  const schema = `${prefix}_${uniqueSuffix()}`;
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  beforeAll(async () => {
    await seedTraffic(schema);
  }, 120_000);
  afterAll(async () => {
    await dropSchema({ db: pool, schema });
    await pool.end();
  });
  return { schema, pool };
}
