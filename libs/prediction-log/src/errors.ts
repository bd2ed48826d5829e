import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/prediction-log. The README's troubleshooting section lists them. */
export const PredictionLogErrorCode = {
  /** Options failed validation (bad schema name, sample rate outside [0, 1], queue smaller than a batch, …). */
  INVALID_OPTIONS: 'PREDICTION_LOG_INVALID_OPTIONS',
  /** The predictions table (or the click-log tables the reader joins) does not exist: run the migrations first. */
  SCHEMA_MISSING: 'PREDICTION_LOG_SCHEMA_MISSING',
  /** The migration failed; it was rolled back. */
  MIGRATION_FAILED: 'PREDICTION_LOG_MIGRATION_FAILED',
  /** Reading logged predictions failed (connection lost, permission denied, …). */
  READ_FAILED: 'PREDICTION_LOG_READ_FAILED',
} as const;
export type PredictionLogErrorCode = ErrorCodeOf<typeof PredictionLogErrorCode>;

export class PredictionLogError extends PackageError<PredictionLogErrorCode> {}
