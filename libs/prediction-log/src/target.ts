import { checkedSchemaName } from '@fallback-ctr/runtime';
import type pg from 'pg';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';

/** The predictions table lives beside the click logs: same default schema as @fallback-ctr/clicklog. */
export const DEFAULT_SCHEMA = 'clicklog';

/** Where the log lives: a pg.Pool (borrowed, never ended here) or a connection string, and a schema. */
export interface PredictionLogTarget {
  db: pg.Pool | string;
  /** Postgres schema name; default "clicklog" (the click logs' schema). */
  schema?: string;
}

export function resolveSchema(target: { schema?: string | undefined }): string {
  return checkedSchemaName(
    target.schema,
    DEFAULT_SCHEMA,
    (message) => new PredictionLogError(PredictionLogErrorCode.INVALID_OPTIONS, message),
  );
}
