import { isMlflowError, type MlflowClient } from '@fallback-ctr/mlflow';
import { CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, VersionTag } from '@fallback-ctr/model';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { versionByAlias } from '../registry.js';

function ignoreNotFound(error: unknown): void {
  if (!(isMlflowError(error) && error.isNotFound)) throw error;
}

/** Alias state before a promotion, so it can be restored exactly. */
export interface AliasState {
  champion: string | null;
  previousChampion: string | null;
}

export async function readAliases(mlflow: MlflowClient, modelName: string): Promise<AliasState> {
  const [champion, previous] = await Promise.all([
    versionByAlias(mlflow, modelName, CHAMPION_ALIAS),
    versionByAlias(mlflow, modelName, PREVIOUS_CHAMPION_ALIAS),
  ]);
  return { champion: champion?.version ?? null, previousChampion: previous?.version ?? null };
}

/**
 * Moves `champion` to `version`; the version it replaced gets `previous-champion`. Returns the
 * state before, for `restoreAliases`. `previous-champion` moves first: if the second call fails,
 * `champion` is untouched. A promotion and a rollback both move the aliases this way.
 *
 * After any error the aliases are read back and the truth decides: `champion` on `version` (the
 * server applied the move but its answer was lost) is a promotion; `champion` where it was is a
 * failure with `previous-champion` put back; unreadable aliases throw TRAINER_ALIAS_STATE_UNKNOWN.
 */
export async function promoteVersion(
  mlflow: MlflowClient,
  modelName: string,
  version: string,
  logger: Logger,
  /** The aliases as the caller just read them (read here when not given). */
  aliases?: AliasState,
): Promise<AliasState> {
  const before = aliases ?? (await readAliases(mlflow, modelName));
  try {
    if (before.champion && before.champion !== version) {
      await mlflow.setAlias(modelName, PREVIOUS_CHAMPION_ALIAS, before.champion);
    }
    await mlflow.setAlias(modelName, CHAMPION_ALIAS, version);
  } catch (error) {
    let after: AliasState;
    try {
      after = await readAliases(mlflow, modelName);
    } catch (readError) {
      throw new TrainerError(
        TrainerErrorCode.ALIAS_STATE_UNKNOWN,
        `moving "${CHAMPION_ALIAS}" of ${modelName} to version ${version} failed (${errorMessage(error)}) and reading the aliases back failed too (${errorMessage(readError)}): "${CHAMPION_ALIAS}" is either version ${version} or still ${before.champion ?? 'unset'}; the status command shows which, and the next run reconciles it`,
        { cause: error },
      );
    }
    if (after.champion !== version) {
      logger.warn(
        { modelName, modelVersion: version, champion: after.champion, err: error },
        'the champion alias did not move (read back)',
      );
      // champion did not move: put previous-champion back too (best effort; MLflow may be down).
      if (after.previousChampion !== before.previousChampion) {
        const undo = before.previousChampion
          ? mlflow.setAlias(modelName, PREVIOUS_CHAMPION_ALIAS, before.previousChampion)
          : mlflow.deleteAlias(modelName, PREVIOUS_CHAMPION_ALIAS);
        await undo.catch(() => undefined);
      }
      throw error;
    }
    logger.warn(
      { modelName, modelVersion: version, err: error },
      'the answer to the alias move was lost, but champion reads back as the new version: carrying on',
    );
  }
  logger.info({ modelName, modelVersion: version, previousChampion: before.champion }, 'champion alias moved');
  return before;
}

/** Puts both aliases back as they were (deleting one that did not exist). */
export async function restoreAliases(
  mlflow: MlflowClient,
  modelName: string,
  before: AliasState,
  logger: Logger,
): Promise<void> {
  if (before.champion) await mlflow.setAlias(modelName, CHAMPION_ALIAS, before.champion);
  else await mlflow.deleteAlias(modelName, CHAMPION_ALIAS).catch(ignoreNotFound);
  if (before.previousChampion) await mlflow.setAlias(modelName, PREVIOUS_CHAMPION_ALIAS, before.previousChampion);
  else await mlflow.deleteAlias(modelName, PREVIOUS_CHAMPION_ALIAS).catch(ignoreNotFound);
  logger.warn({ modelName, champion: before.champion, previousChampion: before.previousChampion }, 'aliases restored');
}

/** What the `promotion` tag of a version says now; `promotion.at` and `promotion.by` say when and why. */
export type PromotionState = 'challenger' | 'promoted' | 'superseded' | 'rolled-back' | 'refused' | 'aborted';

/**
 * Keeps a version's `promotion` tag true: `challenger` while it is scored in shadow, `refused` when the
 * shadow comparison found it worse, `promoted` while it serves, `superseded` once a newer one
 * replaced it, `rolled-back` when the champion was moved away from it, `aborted` when its promotion
 * failed half-way. `by` names the run or command that changed it.
 */
export async function tagPromotion(
  mlflow: MlflowClient,
  modelName: string,
  version: string,
  state: PromotionState,
  by?: string,
): Promise<void> {
  await mlflow.setModelVersionTag(modelName, version, VersionTag.PROMOTION, state);
  await mlflow.setModelVersionTag(modelName, version, VersionTag.PROMOTION_AT, new Date().toISOString());
  if (by !== undefined) await mlflow.setModelVersionTag(modelName, version, VersionTag.PROMOTION_BY, by);
}
