import { randomBytes } from 'node:crypto';
import { migratePredictionLog } from '@fallback-ctr/prediction-log';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { databaseUrl } from './set-up-env.js';

export { databaseUrl };

export interface LoggedPredictionRow {
  impression_id: string;
  model_version: string;
  role: string;
  score: number;
}

export interface PredictionLogSchema {
  /** `<prefix>_<random hex>`: a schema of the test file's own. */
  readonly schema: string;
  /** Open from the file's beforeAll to its afterAll. */
  readonly pool: pg.Pool;
  /** The key columns of the logged predictions; `tail` is the SQL after FROM the table (WHERE, ORDER BY). */
  rows(tail: string, params?: unknown[]): Promise<LoggedPredictionRow[]>;
}

/**
 * A migrated prediction-log schema in the real PostgreSQL the global set-up started, for one test
 * file: created in beforeAll, dropped with everything in it in afterAll. Call it at the file's top level.
 */
export function usePredictionLogSchema(prefix: string, maxConnections = 2): PredictionLogSchema {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  let open: pg.Pool | undefined;
  const pool = (): pg.Pool => {
    if (!open) throw new Error('the prediction-log pool is open from beforeAll to afterAll only');
    return open;
  };
  beforeAll(async () => {
    open = new pg.Pool({ connectionString: databaseUrl(), max: maxConnections });
    await migratePredictionLog({ db: open, schema });
  });
  afterAll(async () => {
    await pool().query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool().end();
  });
  return {
    schema,
    get pool() {
      return pool();
    },
    async rows(tail, params = []) {
      const result = await pool().query<LoggedPredictionRow>(
        `SELECT impression_id, model_version, role, score FROM ${schema}.predictions ${tail}`,
        params,
      );
      return result.rows;
    },
  };
}
