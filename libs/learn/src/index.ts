export { LearnError, LearnErrorCode } from './errors.js';
export {
  appendColumns,
  type BatchLineage,
  type BatchSource,
  type FeaturizedBatch,
  FeaturizedBatchBuilder,
  featurizeBatches,
  featurizeRows,
  type LabeledBatch,
  type LabeledImpression,
  selectColumns,
  sliceRows,
  validateBatch,
} from './featurized-batch.js';
export {
  baseRateLogOdds,
  createFtrl,
  FTRL_DEFAULTS,
  type Ftrl,
  type FtrlOptions,
  type FtrlOptionsInput,
  FtrlOptionsSchema,
  type FtrlState,
  parseFtrlOptions,
  TRAIN_DEFAULTS,
} from './ftrl.js';
export {
  DEFAULT_VALIDATION_FRACTION,
  type SearchHooks,
  type SearchOptions,
  type SearchOptionsInput,
  SearchOptionsSchema,
  type SearchResult,
  type SearchSpace,
  SearchSpaceSchema,
  type SearchTrial,
  searchAndFit,
  searchHyperparameters,
  validationSplit,
} from './hyperparameter-search.js';
export {
  binaryEntropy,
  clipProbability,
  computeMetrics,
  type EvaluationMetrics,
  LOGLOSS_EPSILON,
  logloss,
  MetricsAccumulator,
  type ReliabilityBin,
  rocAuc,
} from './metrics.js';
export { createPrng } from './prng.js';
export { RareTokenDraws } from './rare-token-draws.js';
export {
  type Estimate,
  type MetricEstimates,
  metricEstimates,
  type PairedEstimates,
  pairedEstimates,
} from './standard-errors.js';
export {
  drawFieldOverrides,
  drawMissingFields,
  type FeaturizedRow,
  type FeaturizedRowSource,
  type PassReport,
  parseTrainOptions,
  type RowSource,
  type ToArtifactInputOptions,
  type TrainHooks,
  type TrainOptions,
  type TrainOptionsInput,
  TrainOptionsSchema,
  type TrainProgress,
  type TrainResult,
  toArtifactInput,
  trainOnBatch,
  trainOnBatches,
  trainOnBatchWithProgress,
  trainOnFeaturizedRows,
  trainOnRows,
} from './train.js';
export { refeaturizeBatch, ValueCounter } from './vocabulary-builder.js';
