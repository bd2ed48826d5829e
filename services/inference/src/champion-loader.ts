import { type MlflowClient, MlflowError, MlflowErrorCode } from '@fallback-ctr/mlflow';
import {
  ARTIFACT_FILE_NAME,
  createScorer,
  type ModelArtifact,
  ModelError,
  parseArtifact,
  VersionTag,
} from '@fallback-ctr/model';
import {
  errorMessage,
  type Logger,
  RetryError,
  RuntimeErrorCode,
  raceTimer,
  retry,
  silentLogger,
} from '@fallback-ctr/runtime';
import { InferenceError, InferenceErrorCode } from './errors.js';
import type { LoadedModel } from './model-holder.js';
import type { ModelMeta } from './model-meta.js';

export interface FetchModelOptions {
  client: MlflowClient;
  name: string;
  /** Alias to resolve when no version is pinned. */
  alias: string;
  /** Pinned version: wins over the alias. */
  version?: string | undefined;
  /** Give up after this long (MLflow unreachable or failing); the caller exits so the pod restarts. */
  deadlineMs: number;
  /** Largest artifact accepted: checked against the registry's listing, then while downloading. Default: no limit. */
  maxArtifactBytes?: number;
  logger?: Logger;
  /** Stops retrying (e.g. SIGTERM during start-up). */
  signal?: AbortSignal;
  /**
   * Wait (until the deadline) for a version to get the alias, as a new install's champion does.
   * Default true; false fails at once with INFERENCE_MODEL_NOT_FOUND (a challenger is optional).
   */
  awaitAlias?: boolean;
  /** Backoff between attempts. Defaults: 250 ms growing to 5 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** A verified artifact and the registry facts about it: what the primary hands to its workers. */
export interface FetchedModel {
  meta: ModelMeta;
  bytes: Buffer;
  artifact: ModelArtifact;
}

/** Transient: worth another attempt until the deadline. Anything else is a fault that waiting will not fix. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof MlflowError)) return false;
  if (error.code === MlflowErrorCode.UNREACHABLE || error.code === MlflowErrorCode.TIMEOUT) return true;
  const status = error.status;
  return status !== undefined && (status >= 500 || status === 429 || status === 408);
}

/** A missing registered model, version or alias (MLFLOW_ALIAS_NOT_FOUND counts). */
function isMissing(error: unknown): error is MlflowError {
  return error instanceof MlflowError && error.isNotFound;
}

/**
 * No version behind the alias yet: the normal state of a new install until the trainer's first
 * run passes the gate. The pod waits for it, not ready, until the deadline (restarting at once
 * would only crash-loop). A pinned version that does not exist is a fault and fails at once.
 */
function isAwaitedAlias(error: unknown, options: FetchModelOptions): boolean {
  return (
    options.version === undefined &&
    (options.awaitAlias ?? true) &&
    error instanceof InferenceError &&
    error.code === InferenceErrorCode.MODEL_NOT_FOUND
  );
}

function describe(error: unknown): string {
  return errorMessage(error);
}

/**
 * The artifact file of a version, relative to its source (`<run artifact_uri>/model`). Never more
 * than `maxArtifactBytes` is read: the registry's listing is checked first, then the download stops
 * at the limit.
 */
async function downloadArtifact(options: FetchModelOptions, version: string): Promise<Buffer> {
  const { client, name } = options;
  const maxBytes = options.maxArtifactBytes ?? Number.POSITIVE_INFINITY;
  const tooLarge = (detail: string, cause?: unknown) =>
    new InferenceError(
      InferenceErrorCode.ARTIFACT_REJECTED,
      `refusing to serve version ${version} of "${name}": ${detail}, more than MAX_ARTIFACT_BYTES (${maxBytes})`,
      { cause },
    );
  const source = await client.getModelVersionDownloadUri(name, version);
  if (Number.isFinite(maxBytes)) {
    const listed = (await client.listArtifacts(source)).find((file) => file.path === ARTIFACT_FILE_NAME);
    if (listed?.fileSize !== undefined && listed.fileSize > maxBytes) {
      throw tooLarge(`the registry lists ${ARTIFACT_FILE_NAME} at ${listed.fileSize} bytes`);
    }
  }
  try {
    return await client.downloadArtifact(source, ARTIFACT_FILE_NAME, { maxBytes });
  } catch (error) {
    if (error instanceof MlflowError && error.code === MlflowErrorCode.ARTIFACT_TOO_LARGE) {
      throw tooLarge(error.message, error);
    }
    throw error;
  }
}

async function fetchOnce(options: FetchModelOptions): Promise<FetchedModel> {
  const { client, name } = options;
  const pinned = options.version !== undefined;
  const where = pinned
    ? `version ${options.version} of model "${name}"`
    : `alias "${options.alias}" of model "${name}"`;
  let version: Awaited<ReturnType<MlflowClient['getModelVersion']>>;
  try {
    version = pinned
      ? await client.getModelVersion(name, options.version as string)
      : await client.getModelVersionByAlias(name, options.alias);
  } catch (error) {
    if (isMissing(error)) {
      throw new InferenceError(
        InferenceErrorCode.MODEL_NOT_FOUND,
        `${where} does not exist in the MLflow registry at ${client.trackingUri}: check MODEL_NAME/MODEL_ALIAS/MODEL_VERSION, or promote a version first`,
        { cause: error },
      );
    }
    throw error;
  }
  const bytes = await downloadArtifact(options, version.version);
  let artifact: ModelArtifact;
  try {
    artifact = parseArtifact(bytes);
  } catch (error) {
    if (error instanceof ModelError) {
      throw new InferenceError(
        InferenceErrorCode.ARTIFACT_REJECTED,
        `refusing to serve version ${version.version} of "${name}": ${error.message} [${error.code}]`,
        { cause: error },
      );
    }
    throw error;
  }
  const recorded = version.tags[VersionTag.ARTIFACT_SHA256];
  if (recorded !== undefined && recorded !== artifact.sha256) {
    throw new InferenceError(
      InferenceErrorCode.ARTIFACT_REJECTED,
      `refusing to serve version ${version.version} of "${name}": the registry tag ${VersionTag.ARTIFACT_SHA256} is ${recorded} but the downloaded artifact is ${artifact.sha256}`,
    );
  }
  return {
    bytes,
    artifact,
    meta: {
      name,
      version: version.version,
      resolvedFrom: pinned ? 'pinned' : `alias:${options.alias}`,
      runId: version.runId,
      tags: version.tags,
      loadedAt: new Date().toISOString(),
      sha256: artifact.sha256,
    },
  };
}

/**
 * Resolves the alias (or pinned version), downloads `<source>/<ARTIFACT_FILE_NAME>` (source =
 * `<run artifact_uri>/model`) and verifies it.
 * Retries while MLflow is unreachable or failing, or while the alias (or the registered model)
 * does not exist yet, until `deadlineMs`; then throws INFERENCE_MODEL_LOAD_DEADLINE. A missing
 * pinned version (INFERENCE_MODEL_NOT_FOUND) or a bad artifact (INFERENCE_ARTIFACT_REJECTED) fails
 * at once: waiting would not fix them.
 */
export async function fetchModel(options: FetchModelOptions): Promise<FetchedModel> {
  const logger = options.logger ?? silentLogger();
  const started = Date.now();
  let lastError: unknown;
  const attempts = retry(
    async () => {
      try {
        return await fetchOnce(options);
      } catch (error) {
        lastError = error;
        throw error;
      }
    },
    {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      initialDelayMs: options.initialDelayMs ?? 250,
      maxDelayMs: options.maxDelayMs ?? 5_000,
      deadlineMs: options.deadlineMs,
      signal: options.signal,
      retryable: (error) => isTransient(error) || isAwaitedAlias(error, options),
      onRetry: ({ error, attempt, delayMs }) =>
        logger.warn(
          { err: error, attempt, delayMs, elapsedMs: Date.now() - started },
          isAwaitedAlias(error, options)
            ? `no version has the alias "${options.alias}" yet; waiting for one (not ready)`
            : 'model registry not reachable yet; retrying (not ready)',
        ),
    },
  ).catch((error: unknown) => {
    if (error instanceof RetryError && error.code === RuntimeErrorCode.RETRY_DEADLINE) {
      throw new InferenceError(
        InferenceErrorCode.MODEL_LOAD_DEADLINE,
        `model not loaded within ${options.deadlineMs} ms (STARTUP_DEADLINE_SECONDS): ${describe(error.cause)}`,
        { cause: error.cause },
      );
    }
    throw error;
  });
  // An attempt in progress at the deadline (a slow download) is not waited for.
  return raceTimer(attempts, options.deadlineMs, () => {
    throw new InferenceError(
      InferenceErrorCode.MODEL_LOAD_DEADLINE,
      `model not loaded within ${options.deadlineMs} ms (STARTUP_DEADLINE_SECONDS); last error: ${describe(lastError ?? 'an attempt still in progress')}`,
      { cause: lastError },
    );
  });
}

/** Builds the scorer for an artifact already parsed and verified. */
export function loadedModel(meta: ModelMeta, artifact: ModelArtifact): LoadedModel {
  return {
    name: meta.name,
    version: meta.version,
    resolvedFrom: meta.resolvedFrom,
    runId: meta.runId,
    tags: meta.tags,
    loadedAt: new Date(meta.loadedAt),
    artifact,
    scorer: createScorer(artifact),
  };
}

/** Re-verifies artifact bytes handed over by the cluster primary and builds the model. */
export function loadedModelFromBytes(meta: ModelMeta, bytes: Uint8Array): LoadedModel {
  try {
    const artifact = parseArtifact(bytes);
    if (artifact.sha256 !== meta.sha256) {
      throw new Error(`handed-over artifact is ${artifact.sha256}, the primary verified ${meta.sha256}`);
    }
    return loadedModel(meta, artifact);
  } catch (error) {
    throw new InferenceError(
      InferenceErrorCode.HANDOFF_FAILED,
      `cannot load the artifact handed over: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
}
