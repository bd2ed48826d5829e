import { isMlflowError, type MlflowClient, type ModelVersion } from '@fallback-ctr/mlflow';
import { PREVIOUS_CHAMPION_ALIAS, VersionTag } from '@fallback-ctr/model';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TrainerConfig } from './config.js';
import { TrainerError, TrainerErrorCode } from './errors.js';
import { promoteVersion, readAliases, tagPromotion } from './pipeline/promote.js';
import { rollOutVersion } from './pipeline/rollout-stage.js';
import { loadVersion } from './registry.js';
import { holdModelLock } from './run-lock.js';

export interface RollbackDeps {
  config: TrainerConfig;
  mlflow: MlflowClient;
  logger: Logger;
  kubeConfig: () => KubeConfig;
  signal?: AbortSignal;
}

export interface RollbackResult {
  from: string | null;
  to: string;
  /** back: to an older version than the one replaced (the usual rollback); forward: to a newer one. */
  direction: 'back' | 'forward';
}

/**
 * Moves `champion` to `toVersion` (default: the `previous-champion` alias), gives the replaced
 * version `previous-champion`, and rolls the inference Deployment out. Holds the same lock as a
 * training run, so it never races a promotion. The target's artifact is downloaded and verified first,
 * within MAX_ARTIFACT_BYTES, as a pod would.
 */
export async function rollbackChampion(deps: RollbackDeps, toVersion?: string): Promise<RollbackResult> {
  const { config, mlflow, logger } = deps;
  const modelName = config.mlflow.modelName;
  const lock = await holdModelLock(config, logger, 'the rollback');
  try {
    const aliases = await readAliases(mlflow, modelName);
    const target = toVersion ?? aliases.previousChampion;
    if (!target) {
      throw new TrainerError(
        TrainerErrorCode.ROLLBACK_TARGET_INVALID,
        `${modelName} has no "${PREVIOUS_CHAMPION_ALIAS}" alias; name a version with --to-version N (see the status command)`,
      );
    }
    if (target === aliases.champion) {
      throw new TrainerError(
        TrainerErrorCode.ROLLBACK_TARGET_INVALID,
        `version ${target} is already the champion of ${modelName}`,
      );
    }
    let registered: ModelVersion;
    try {
      registered = await mlflow.getModelVersion(modelName, target);
    } catch (error) {
      // Only "no such version" is a wrong argument; an unreachable registry stays what it is.
      if (!(isMlflowError(error) && error.isNotFound)) throw error;
      throw new TrainerError(
        TrainerErrorCode.ROLLBACK_TARGET_INVALID,
        `${modelName} has no version ${target}; the status command lists its versions`,
        { cause: error },
      );
    }
    const gateOutcome = registered.tags[VersionTag.GATE_OUTCOME];
    if (gateOutcome !== 'PASS') {
      logger.warn({ modelVersion: target, gateOutcome }, 'rolling back to a version that did not pass the gate');
    }
    // Verified as a pod will (download, checksum, registry tag) before anything moves.
    try {
      await loadVersion(mlflow, modelName, registered, config.maxArtifactBytes);
    } catch (error) {
      throw new TrainerError(
        TrainerErrorCode.ROLLBACK_TARGET_REFUSED,
        `inference would refuse ${modelName} version ${target}, so champion stays ${aliases.champion ?? '(none)'}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    await lock.assertHeld();
    await promoteVersion(mlflow, modelName, target, logger, aliases);
    try {
      await rollOutVersion(
        {
          config: config.rollout,
          kubeConfig: deps.kubeConfig,
          logger,
          signal: deps.signal,
        },
        target,
      );
    } catch (error) {
      // No automatic undo here: the rollback was asked for to get away from the champion it replaced.
      throw new TrainerError(
        TrainerErrorCode.ROLLOUT_FAILED,
        `champion of ${modelName} is now version ${target}, but rolling the deployment out failed: ${errorMessage(
          error,
        )}; pods may still serve version ${aliases.champion ?? '(none)'}: check the Deployment and run rollback again`,
        { cause: error },
      );
    }
    const direction = aliases.champion !== null && Number(target) > Number(aliases.champion) ? 'forward' : 'back';
    const move = direction === 'back' ? 'rollback' : 'roll forward';
    try {
      await tagPromotion(mlflow, modelName, target, 'promoted', `${move} from v${aliases.champion ?? 'none'}`);
      // Moved away from: rolled back when an older version replaces it, superseded when a newer one does.
      if (aliases.champion)
        await tagPromotion(
          mlflow,
          modelName,
          aliases.champion,
          direction === 'back' ? 'rolled-back' : 'superseded',
          `${move} to v${target}`,
        );
    } catch (error) {
      logger.warn({ err: error }, 'could not update the promotion tags after the rollback');
    }
    return { from: aliases.champion, to: target, direction };
  } finally {
    await lock.release();
  }
}
