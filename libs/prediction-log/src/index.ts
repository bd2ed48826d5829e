export { PredictionLogError, PredictionLogErrorCode } from './errors.js';
export { migratePredictionLog, type PredictionLogMigrateResult } from './migrate.js';
export {
  createPredictionLogWriter,
  type DropReason,
  type LoggedModel,
  type PredictionLogStats,
  type PredictionLogWriter,
  type PredictionLogWriterOptions,
  type PredictionLogWriterSettings,
  PredictionLogWriterSettingsSchema,
} from './prediction-log-writer.js';
export { PREDICTION_LOG_MIGRATIONS, PREDICTION_ROLES, type PredictionRole } from './predictions-table.js';
export {
  type LabelledPrediction,
  type LabelledPredictionsQuery,
  readLabelledPredictions,
} from './read-labelled-predictions.js';
export { createSampler } from './sampler.js';
export { DEFAULT_SCHEMA, type PredictionLogTarget } from './target.js';
