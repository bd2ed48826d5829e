import type { Readable } from 'node:stream';
import type { Env } from '@fallback-ctr/runtime';
import type { ArtifactFile } from './artifact-schemas.js';
import { createArtifactApi } from './artifacts.js';
import { ClientOptionsSchema, type MlflowClientOptions, optionsFromEnv } from './client-options.js';
import { MlflowError, MlflowErrorCode } from './errors.js';
import type { KeyValues, LogBatchInput, ParamValue } from './log-batch-plan.js';
import { createRegistryApi } from './registry.js';
import type { ModelVersion, RegisteredModel } from './registry-schemas.js';
import { createTrackingApi } from './tracking.js';
import type { Experiment, Run, RunInfo, TerminalRunStatus } from './tracking-schemas.js';
import { createTransport } from './transport.js';

export interface CreateExperimentOptions {
  /** Only for a new experiment; leave unset so artifacts go through the server's proxy. */
  artifactLocation?: string;
  tags?: Record<string, string>;
}

export interface CreateRunOptions {
  experimentId: string;
  runName?: string;
  /** ms since the epoch; defaults to now. */
  startTime?: number;
  tags?: Record<string, string>;
}

export interface RegisteredModelOptions {
  description?: string;
  tags?: Record<string, string>;
}

export interface CreateModelVersionOptions {
  name: string;
  /** Where the version's files are, normally `<run artifact_uri>/model`. */
  source: string;
  /** The run that holds `source` (the server requires it). */
  runId: string;
  tags?: Record<string, string>;
  description?: string;
  /** Overrides the client's registrationTimeoutMs for this call. */
  registrationTimeoutMs?: number;
}

export interface SearchModelVersionsOptions {
  /** A registered model name: shorthand for the filter `name = '<name>'`. */
  name?: string;
  /** MLflow filter string, e.g. "name = 'm' AND run_id = 'r'". Combined with `name` by AND. */
  filter?: string;
  /** Page size (server maximum 200 000; default 100 here). */
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

export interface SearchRunsOptions {
  experimentIds: readonly string[];
  /** MLflow filter string, e.g. "attributes.status = 'RUNNING' AND tags.`k` = 'v'". */
  filter?: string;
  /** Page size (default 100 here, server maximum 50 000). */
  maxResults?: number;
  orderBy?: readonly string[];
}

export interface ModelVersionPage {
  modelVersions: ModelVersion[];
  /** Set when more results exist; pass it back as `pageToken`. */
  nextPageToken: string | undefined;
}

/**
 * What an artifact upload reads: bytes, a file on disk, or a stream. Files and bytes can be
 * retried; a stream can be sent once only.
 */
export type ArtifactSource =
  | Uint8Array
  | { filePath: string }
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

export interface DownloadOptions {
  /** Largest file accepted, in bytes. */
  maxBytes?: number;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
}

export interface MlflowClient {
  /** Base URL of the tracking server, without credentials. */
  readonly trackingUri: string;

  // Tracking
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  /** Returns the experiment, creating it when missing; safe when several processes race. */
  getOrCreateExperiment(name: string, options?: CreateExperimentOptions): Promise<Experiment>;
  deleteExperiment(experimentId: string): Promise<void>;
  createRun(options: CreateRunOptions): Promise<Run>;
  /** Ends a run with FINISHED (default), FAILED or KILLED. */
  finishRun(runId: string, status?: TerminalRunStatus, endTime?: number): Promise<RunInfo>;
  getRun(runId: string): Promise<Run>;
  /** Every run matching the search, all pages read (active runs only, as MLflow's default view). */
  searchAllRuns(options: SearchRunsOptions): Promise<Run[]>;
  deleteRun(runId: string): Promise<void>;
  /** Logs any number of metrics, params and tags, split into requests within the server's limits. */
  logBatch(runId: string, batch: LogBatchInput): Promise<void>;
  logMetrics(
    runId: string,
    metrics: Record<string, number>,
    options?: { step?: number; timestamp?: number },
  ): Promise<void>;
  logParams(runId: string, params: Record<string, ParamValue>): Promise<void>;
  setTags(runId: string, tags: KeyValues): Promise<void>;

  // Artifacts (through the tracking server's proxy); `artifactUri` is a run's artifact_uri or a version's source
  uploadArtifact(artifactUri: string, relativePath: string, source: ArtifactSource): Promise<void>;
  /** Lists one directory (`relativePath`, default the root); entry paths are relative to `artifactUri`. */
  listArtifacts(artifactUri: string, relativePath?: string): Promise<ArtifactFile[]>;
  /**
   * Downloads one file into memory. With `maxBytes`, fails with MLFLOW_ARTIFACT_TOO_LARGE as soon as
   * the declared length or the bytes received exceed it (never holding more than that in memory).
   */
  downloadArtifact(artifactUri: string, relativePath: string, options?: DownloadOptions): Promise<Buffer>;
  /** Streams one file to disk (written to a temporary name, then renamed). */
  downloadArtifactToFile(artifactUri: string, relativePath: string, filePath: string): Promise<DownloadResult>;
  /** Opens one file as a stream. */
  openArtifactStream(artifactUri: string, relativePath: string): Promise<Readable>;
  /** Deletes a file or a directory (default: everything under `artifactUri`). Deleting a run does not. */
  deleteArtifacts(artifactUri: string, relativePath?: string): Promise<void>;

  // Registry
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  getOrCreateRegisteredModel(name: string, options?: RegisteredModelOptions): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  /** Creates a version and waits while it is PENDING_REGISTRATION; never creates a duplicate on retry. */
  createModelVersion(options: CreateModelVersionOptions): Promise<ModelVersion>;
  getModelVersion(name: string, version: string | number): Promise<ModelVersion>;
  /** One page of results; aliases are not reliable in search results, use getModelVersion. */
  searchModelVersions(options?: SearchModelVersionsOptions): Promise<ModelVersionPage>;
  /** Follows every page. */
  searchAllModelVersions(options?: Omit<SearchModelVersionsOptions, 'pageToken'>): Promise<ModelVersion[]>;
  setModelVersionTag(name: string, version: string | number, key: string, value: string): Promise<void>;
  /** Sets or moves an alias. */
  setAlias(name: string, alias: string, version: string | number): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  deleteAlias(name: string, alias: string): Promise<void>;
  /** Downloads one file of a model version, e.g. (`fallback-ctr`, `3`, `model.json`). */
  downloadModelVersionArtifact(
    name: string,
    version: string | number,
    relativePath: string,
    options?: DownloadOptions,
  ): Promise<Buffer>;
  /** The artifact root URI of a version (what `relativePath`s are relative to). */
  getModelVersionDownloadUri(name: string, version: string | number): Promise<string>;
}

export function createMlflowClient(options: MlflowClientOptions): MlflowClient {
  const parsed = ClientOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new MlflowError(
      MlflowErrorCode.CONFIG_INVALID,
      `invalid MLflow client options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { cause: parsed.error },
    );
  }
  const transport = createTransport(parsed.data, options.logger, options.retryHooks ?? {});
  const tracking = createTrackingApi(transport);
  const artifacts = createArtifactApi(transport);
  const registry = createRegistryApi(transport, artifacts);
  return { trackingUri: transport.baseUrl, ...tracking, ...artifacts, ...registry };
}

/**
 * A client from MLflow's standard environment variables: MLFLOW_TRACKING_URI,
 * MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (Basic) or MLFLOW_TRACKING_TOKEN (Bearer),
 * MLFLOW_HTTP_REQUEST_TIMEOUT (s), MLFLOW_HTTP_REQUEST_MAX_RETRIES. Throws ConfigError when invalid.
 */
export function mlflowClientFromEnv(
  env: Env = process.env,
  extra: Omit<MlflowClientOptions, 'trackingUri' | 'auth'> = {},
): MlflowClient {
  const fromEnv = optionsFromEnv(env);
  return createMlflowClient({ ...fromEnv, ...extra });
}
