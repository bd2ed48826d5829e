import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/clicklog. The README's troubleshooting section lists them. */
export const ClicklogErrorCode = {
  /** Options failed validation (bad schema name, negative window, unknown degrade field, …). */
  INVALID_OPTIONS: 'CLICKLOG_INVALID_OPTIONS',
  /** `to` is not after `from`. */
  INVALID_WINDOW: 'CLICKLOG_INVALID_WINDOW',
  /** The window (after the label-delay rule) holds no impressions. */
  EMPTY_WINDOW: 'CLICKLOG_EMPTY_WINDOW',
  /** The schema or one of its log tables does not exist: run the migrations first. */
  SCHEMA_MISSING: 'CLICKLOG_SCHEMA_MISSING',
  /** A migration failed; it was rolled back. */
  MIGRATION_FAILED: 'CLICKLOG_MIGRATION_FAILED',
  /** The database has migrations this code does not know (a newer version wrote them). */
  MIGRATION_UNKNOWN: 'CLICKLOG_MIGRATION_UNKNOWN',
  /** Writing rows (COPY) failed, e.g. duplicate impression ids. */
  WRITE_FAILED: 'CLICKLOG_WRITE_FAILED',
  /** Reading rows failed mid-stream (connection lost, permission denied, …). */
  READ_FAILED: 'CLICKLOG_READ_FAILED',
  /** An import source file is missing, unreadable, of an unknown format or not parseable as a whole. */
  IMPORT_FILE_UNREADABLE: 'CLICKLOG_IMPORT_FILE_UNREADABLE',
  /** The import mapping names a column the file's header (or Parquet schema) does not have. */
  IMPORT_COLUMN_MISSING: 'CLICKLOG_IMPORT_COLUMN_MISSING',
  /** More bad rows than `maxBadRows` allows: the import was rolled back, nothing was written. */
  IMPORT_TOO_MANY_BAD_ROWS: 'CLICKLOG_IMPORT_TOO_MANY_BAD_ROWS',
} as const;
export type ClicklogErrorCode = ErrorCodeOf<typeof ClicklogErrorCode>;

export class ClicklogError extends PackageError<ClicklogErrorCode> {}
