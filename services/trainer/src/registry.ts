import { isMlflowError, type MlflowClient, MlflowErrorCode, type ModelVersion } from '@fallback-ctr/mlflow';
import {
  ARTIFACT_FILE_NAME,
  CHAMPION_ALIAS,
  createScorer,
  type ModelArtifact,
  parseArtifact,
  type Scorer,
  VersionTag,
} from '@fallback-ctr/model';
import { errorMessage } from '@fallback-ctr/runtime';
import { TrainerError, TrainerErrorCode } from './errors.js';

/** Run tags that name the trainer's own runs (set when the run is created). */
export const RunTag = {
  MODEL_NAME: 'fallback_ctr.model_name',
  COMPONENT: 'fallback_ctr.component',
} as const;

function isNotFound(error: unknown): boolean {
  return isMlflowError(error) && error.isNotFound;
}

/** The version an alias points at, or null when the alias (or the registered model) does not exist. */
export async function versionByAlias(mlflow: MlflowClient, name: string, alias: string): Promise<ModelVersion | null> {
  try {
    return await mlflow.getModelVersionByAlias(name, alias);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

export interface LoadedModel {
  version: string;
  artifact: ModelArtifact;
  scorer: Scorer;
}

/**
 * Downloads, verifies and loads a version's artifact exactly as an inference pod does: the
 * artifact's own checksum and format (parseArtifact), then its sha256 against the registry tag
 * `artifact.sha256` (a re-hashed artifact passes the first check, not the second).
 */
export async function loadVersion(
  mlflow: MlflowClient,
  name: string,
  version: string | ModelVersion,
  /** Refuse an artifact file larger than this, as the inference pods do (MAX_ARTIFACT_BYTES). */
  maxBytes?: number,
): Promise<LoadedModel> {
  const registered = typeof version === 'string' ? await mlflow.getModelVersion(name, version) : version;
  let bytes: Buffer;
  try {
    bytes = await mlflow.downloadModelVersionArtifact(
      name,
      registered.version,
      ARTIFACT_FILE_NAME,
      maxBytes === undefined ? {} : { maxBytes },
    );
  } catch (error) {
    if (isMlflowError(error) && error.code === MlflowErrorCode.ARTIFACT_TOO_LARGE) {
      throw new TrainerError(
        TrainerErrorCode.PUBLISH_FAILED,
        `the artifact of ${name} version ${registered.version} is larger than MAX_ARTIFACT_BYTES (${maxBytes}): ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
  let artifact: ModelArtifact;
  try {
    artifact = parseArtifact(bytes);
    const recorded = registered.tags[VersionTag.ARTIFACT_SHA256];
    if (recorded !== undefined && recorded !== artifact.sha256) {
      throw new Error(
        `the registry tag ${VersionTag.ARTIFACT_SHA256} is ${recorded} but the artifact is ${artifact.sha256}`,
      );
    }
  } catch (error) {
    throw new TrainerError(
      TrainerErrorCode.PUBLISH_FAILED,
      `the artifact of ${name} version ${registered.version} cannot be loaded (${errorMessage(error)}); ` +
        'inference refuses it too: move the champion alias to a healthy version (trainer rollback --to-version N)',
      { cause: error },
    );
  }
  return { version: registered.version, artifact, scorer: createScorer(artifact) };
}

/** The current champion, loaded, or null when there is none yet. */
export async function loadChampion(mlflow: MlflowClient, name: string): Promise<LoadedModel | null> {
  const v = await versionByAlias(mlflow, name, CHAMPION_ALIAS);
  return v ? loadVersion(mlflow, name, v) : null;
}
