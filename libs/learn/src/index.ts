export { LearnError, LearnErrorCode } from './errors.js';
export {
  type FeaturizedBatch,
  FeaturizedBatchBuilder,
  featurizeRows,
  type LabeledImpression,
  validateBatch,
} from './featurized-batch.js';
export {
  createFtrl,
  type Ftrl,
  type FtrlOptions,
  type FtrlOptionsInput,
  FtrlOptionsSchema,
  type FtrlState,
  parseFtrlOptions,
} from './ftrl.js';
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
export {
  type Estimate,
  type MetricEstimates,
  metricEstimates,
  type PairedEstimates,
  pairedEstimates,
} from './standard-errors.js';
export {
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
  trainOnFeaturizedRows,
  trainOnRows,
} from './train.js';
