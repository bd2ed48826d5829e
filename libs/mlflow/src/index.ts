export type { ArtifactFile } from './artifact-schemas.js';
export { ARTIFACT_PROXY_PATH, artifactProxyPath } from './artifact-uri.js';
export type { ArtifactApi, ArtifactSource, DownloadOptions, DownloadResult } from './artifacts.js';
export { createMlflowClient, type MlflowClient, mlflowClientFromEnv } from './client.js';
export {
  type MlflowAuth,
  type MlflowClientOptions,
  MlflowEnvSchema,
  optionsFromEnv,
  type RetryPolicy,
} from './client-options.js';
export { CREATE_REQUEST_TAG } from './create-once.js';
export { isMlflowError, MlflowError, MlflowErrorCode, type MlflowErrorDetails } from './errors.js';
export {
  type KeyValues,
  LOG_BATCH_LIMITS,
  type LogBatchInput,
  type MetricInput,
  type ParamValue,
  planLogBatch,
} from './log-batch-plan.js';
export type {
  CreateModelVersionOptions,
  ModelVersionPage,
  RegisteredModelOptions,
  RegistryApi,
  SearchModelVersionsOptions,
} from './registry.js';
export {
  type ModelVersion,
  ModelVersionSchema,
  type ModelVersionStatus,
  type RegisteredModel,
  RegisteredModelSchema,
} from './registry-schemas.js';
export type { CreateExperimentOptions, CreateRunOptions, SearchRunsOptions, TrackingApi } from './tracking.js';
export {
  type Experiment,
  ExperimentSchema,
  type Metric,
  type Run,
  type RunData,
  type RunInfo,
  RunSchema,
  type RunStatus,
  type TerminalRunStatus,
} from './tracking-schemas.js';
