import { SchemaNameSchema } from '@fallback-ctr/runtime';
import type pg from 'pg';

/** Default Postgres schema holding the click logs. */
export const DEFAULT_SCHEMA = 'clicklog';

/** The schema-name rule (a lower-case identifier, never quoted), shared with every package through runtime. */
export { SchemaNameSchema };

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
