import type pg from 'pg';
import { z } from 'zod';

/** Default Postgres schema holding the click logs. */
export const DEFAULT_SCHEMA = 'clicklog';

/** Lower-case identifier, so it never needs quoting and cannot inject SQL. */
export const SchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier: [a-z_][a-z0-9_]{0,62}');

/**
 * Where the click logs live. `db` is a pg.Pool (borrowed, never ended by this package) or a
 * connection string (a connection is opened and closed per call). `schema` lets every test file or
 * trainer test use its own schema on the shared database.
 */
export interface ClicklogTarget {
  db: pg.Pool | string;
  /** Postgres schema name; default "clicklog". */
  schema?: string;
}
