export { type BuildAppOptions, buildApp } from './app.js';
export { createBearerVerifier } from './bearer-auth.js';
export {
  type FetchedModel,
  type FetchModelOptions,
  fetchModel,
  isTransient,
  loadedModel,
  loadedModelFromBytes,
} from './champion-loader.js';
export {
  INFERENCE_ENV_NAMES,
  type InferenceConfig,
  type InferenceEnv,
  InferenceEnvSchema,
  loadConfig,
} from './config.js';
export { InferenceError, InferenceErrorCode } from './errors.js';
export { createMetrics, type InferenceMetrics } from './metrics.js';
export { createModelHolder, type LoadedModel, type ModelHolder } from './model-holder.js';
export { type ModelMeta, ModelMetaSchema } from './model-meta.js';
export {
  ErrorResponseSchema,
  ModelInfoResponseSchema,
  type PredictImpression,
  PredictImpressionSchema,
  type PredictRequest,
  type PredictResponse,
  PredictResponseSchema,
  predictRequestSchema,
} from './predict-schemas.js';
export { createShadowScorer, type ShadowScorer, type ShadowScores } from './shadow-scorer.js';
