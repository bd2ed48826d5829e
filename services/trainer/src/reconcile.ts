import { isMlflowError, type MlflowClient } from '@fallback-ctr/mlflow';
import { CHAMPION_ALIAS, VersionTag } from '@fallback-ctr/model';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import { TrainerErrorCode } from './errors.js';
import { RunTag, versionByAlias } from './registry.js';
import { acquireRunLock, runLockKey } from './run-lock.js';

/** Tag on a version whose `promotion` tag was settled by reconciliation: why. */
export const RECONCILED_TAG = 'promotion.reconciled';

export interface Leftovers {
  /** Trainer runs of this model still RUNNING although no run holds the lock. */
  runs: { runId: string; runName: string | undefined; startedAt: string | null }[];
  /**
   * Versions still `promotion=pending`: the run that registered them ended before settling them.
   * `rolledOut` says whether the champion among them was rolled out again here (absent: not tried).
   */
  versions: { version: string; isChampion: boolean; rolledOut?: boolean }[];
}

/** Rolls the inference Deployment out to a version (the rollout stage's `rollOutVersion`). */
export type RollOut = (version: string) => Promise<void>;

export interface ReconcileTarget {
  modelName: string;
  experimentName: string;
  /** Runs not to count (the run doing the reconciling). */
  exceptRunIds?: readonly string[];
}

/**
 * What faults left behind for `modelName`: trainer runs stuck RUNNING and versions stuck
 * `promotion=pending`. Only meaningful while holding the model's run lock: without it, they may
 * belong to a run in progress.
 */
export async function findLeftovers(mlflow: MlflowClient, target: ReconcileTarget): Promise<Leftovers> {
  const experiment = await mlflow.getExperimentByName(target.experimentName);
  const except = new Set(target.exceptRunIds ?? []);
  const running = experiment
    ? await mlflow.searchAllRuns({
        experimentIds: [experiment.experimentId],
        filter: `attributes.status = 'RUNNING' AND tags.\`${RunTag.COMPONENT}\` = 'trainer'`,
      })
    : [];
  const runs = running
    .filter((r) => r.data.tags[RunTag.MODEL_NAME] === target.modelName && !except.has(r.info.runId))
    .map((r) => ({
      runId: r.info.runId,
      runName: r.info.runName,
      startedAt: r.info.startTime ? new Date(Number(r.info.startTime)).toISOString() : null,
    }));
  const all = await mlflow.searchAllModelVersions({ name: target.modelName }).catch((error: unknown) => {
    if (isMlflowError(error) && error.isNotFound) return [];
    throw error;
  });
  const pending = all.filter((v) => v.tags[VersionTag.PROMOTION] === 'pending');
  const champion = pending.length > 0 ? await versionByAlias(mlflow, target.modelName, CHAMPION_ALIAS) : null;
  const versions = pending.map((v) => ({ version: v.version, isChampion: v.version === champion?.version }));
  return { runs, versions };
}

/**
 * Settles the leftovers of earlier faults; the caller must hold the model's run lock. A stuck run
 * becomes KILLED with the reason as its `error.*` tags; a pending version `champion` points at
 * (the alias moved, the run died before its rollout finished) is rolled out again with `rollOut`
 * and becomes `promoted` (it stays `pending` when that fails, for the next time); any other
 * pending version becomes `aborted`. The reason goes in `promotion.reconciled`. Each step is
 * independent: one that fails is logged and left for the next time.
 */
export async function reconcileLeftovers(
  mlflow: MlflowClient,
  target: ReconcileTarget,
  foundBy: string,
  logger: Logger,
  rollOut: RollOut,
): Promise<Leftovers> {
  const leftovers = await findLeftovers(mlflow, target);
  const when = new Date().toISOString();
  for (const run of leftovers.runs) {
    try {
      await mlflow.setTags(run.runId, {
        'error.code': TrainerErrorCode.RUN_ABANDONED,
        'error.message': `found still RUNNING at ${when} by ${foundBy} while no run held the lock: the process that ran it ended without finishing (crash, kill, lost MLflow or PostgreSQL)`,
      });
      await mlflow.finishRun(run.runId, 'KILLED');
      logger.warn(
        { abandonedRunId: run.runId, startedAt: run.startedAt },
        'reconciled: an abandoned run marked KILLED',
      );
    } catch (error) {
      logger.warn({ err: error, abandonedRunId: run.runId }, 'could not mark an abandoned run KILLED; next time');
    }
  }
  for (const v of leftovers.versions) {
    if (v.isChampion) {
      // Pods started since the alias moved serve it, older ones the version before: finish the rollout.
      try {
        await rollOut(v.version);
        v.rolledOut = true;
      } catch (error) {
        v.rolledOut = false;
        logger.error(
          { err: error, modelVersion: v.version },
          'reconciling: rolling the champion out again failed; it stays pending for the next time',
        );
        await mlflow
          .setModelVersionTag(
            target.modelName,
            v.version,
            RECONCILED_TAG,
            `rolling it out again failed at ${when} (${foundBy}): ${errorMessage(error)}`,
          )
          .catch(() => undefined);
        continue;
      }
    }
    const state = v.isChampion ? 'promoted' : 'aborted';
    const reason = v.isChampion
      ? `"${CHAMPION_ALIAS}" points at it but the run that promoted it ended before its rollout finished; rolled out again at ${when} by ${foundBy}`
      : `the run that registered it ended before moving "${CHAMPION_ALIAS}" (found at ${when} by ${foundBy})`;
    try {
      await mlflow.setModelVersionTag(target.modelName, v.version, RECONCILED_TAG, reason);
      await mlflow.setModelVersionTag(target.modelName, v.version, VersionTag.PROMOTION, state);
      logger.warn({ modelVersion: v.version, promotion: state }, `reconciled: a pending version marked ${state}`);
    } catch (error) {
      logger.warn({ err: error, modelVersion: v.version }, 'could not settle a pending version; next time');
    }
  }
  return leftovers;
}

export type ReconcileAttempt =
  /** The lock was free: the leftovers listed were settled. */
  | { state: 'reconciled'; leftovers: Leftovers }
  /** A run holds the lock: what looks left over may be its own work, so nothing was touched. */
  | { state: 'run-in-progress' }
  /** The lock could not be asked for (PostgreSQL unreachable) or MLflow failed. */
  | { state: 'unchecked'; reason: string };

/**
 * For commands that do not hold the lock (`status`): takes it if it is free at once, settles the
 * leftovers, and lets it go; without a database, leaves them alone. Never throws: the answer says what was done.
 */
export async function reconcileIfIdle(
  mlflow: MlflowClient,
  databaseUrl: string | undefined,
  target: ReconcileTarget,
  foundBy: string,
  logger: Logger,
  rollOut: RollOut,
): Promise<ReconcileAttempt> {
  if (databaseUrl === undefined)
    return { state: 'unchecked', reason: 'DATABASE_URL is not set, so the run lock cannot be asked for' };
  let lock: Awaited<ReturnType<typeof acquireRunLock>>;
  try {
    lock = await acquireRunLock({ databaseUrl, key: runLockKey(target.modelName), logger });
  } catch (error) {
    return { state: 'unchecked', reason: `the run lock could not be asked for: ${(error as Error).message}` };
  }
  if (!lock) return { state: 'run-in-progress' };
  try {
    return { state: 'reconciled', leftovers: await reconcileLeftovers(mlflow, target, foundBy, logger, rollOut) };
  } catch (error) {
    return { state: 'unchecked', reason: (error as Error).message };
  } finally {
    await lock.release();
  }
}
