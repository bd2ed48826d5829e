import { isMlflowError, type MlflowClient } from '@fallback-ctr/mlflow';
import { CHALLENGER_ALIAS } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import { versionByAlias } from '../registry.js';
import { deploymentRollout, type RolloutContext } from './rollout-stage.js';

/** The version `challenger` names, or null. */
export async function readChallenger(mlflow: MlflowClient, modelName: string): Promise<string | null> {
  return (await versionByAlias(mlflow, modelName, CHALLENGER_ALIAS))?.version ?? null;
}

/** Points `challenger` at `version` (null deletes it); returns the version it named before. */
export async function moveChallenger(
  mlflow: MlflowClient,
  modelName: string,
  version: string | null,
  logger: Logger,
): Promise<string | null> {
  const before = await readChallenger(mlflow, modelName);
  if (version === null) {
    await mlflow.deleteAlias(modelName, CHALLENGER_ALIAS).catch((error: unknown) => {
      if (!(isMlflowError(error) && error.isNotFound)) throw error;
    });
  } else {
    await mlflow.setAlias(modelName, CHALLENGER_ALIAS, version);
  }
  logger.info({ modelName, challenger: version, previousChallenger: before }, 'challenger alias moved');
  return before;
}

/**
 * Pods resolve `challenger` once, at start-up, like `champion`: a moved challenger reaches them only
 * through a rollout. This patches the pod template's challenger annotation (null removes it) and,
 * with `wait`, waits like `kubectl rollout status`. Mode "none" only logs.
 */
export async function rollOutChallenger(
  ctx: RolloutContext,
  annotationKey: string,
  version: string | null,
  options: { wait: boolean },
): Promise<void> {
  if (ctx.config.mode === 'none') {
    ctx.logger.info(
      { challenger: version },
      'rollout mode "none": inference pods pick up the challenger when they next start',
    );
    return;
  }
  const rollout = deploymentRollout({ ...ctx, config: { ...ctx.config, annotationKey } });
  await rollout.patchVersion(version);
  if (!options.wait) return;
  await rollout.waitForRollout({
    timeoutMs: ctx.config.timeoutMs,
    pollMs: ctx.config.pollMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}
