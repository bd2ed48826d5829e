import type { Logger } from '@fallback-ctr/runtime';
import pg from 'pg';

/** A small pool on the click-log database for one command; the caller ends it. */
export function openDatabasePool(databaseUrl: string, applicationName: string, logger: Logger): pg.Pool {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: applicationName });
  db.on('error', (error) => logger.error({ err: error }, 'idle Postgres connection failed'));
  return db;
}
