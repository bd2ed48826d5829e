import type pg from 'pg';
import { z } from 'zod';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';

/** The predictions table lives beside the click logs: same default schema as @fallback-ctr/clicklog. */
export const DEFAULT_SCHEMA = 'clicklog';

/** Lower-case identifier, so it never needs quoting and cannot inject SQL. */
export const SchemaNameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier: [a-z_][a-z0-9_]{0,62}');

/** Where the log lives: a pg.Pool (borrowed, never ended here) or a connection string, and a schema. */
export interface PredictionLogTarget {
  db: pg.Pool | string;
  /** Postgres schema name; default "clicklog" (the click logs' schema). */
  schema?: string;
}

export function resolveSchema(target: { schema?: string | undefined }): string {
  const parsed = SchemaNameSchema.safeParse(target.schema ?? DEFAULT_SCHEMA);
  if (!parsed.success) {
    throw new PredictionLogError(
      PredictionLogErrorCode.INVALID_OPTIONS,
      `Invalid schema name ${JSON.stringify(target.schema)}: expected ${parsed.error.issues[0]?.message ?? 'a lower-case identifier'}`,
    );
  }
  return parsed.data;
}
