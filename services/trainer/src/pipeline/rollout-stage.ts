import type { MlflowClient } from '@fallback-ctr/mlflow';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TrainerConfig } from '../config.js';
import { createDeploymentRollout, type DeploymentRollout, defaultNamespace } from '../deployment-rollout.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { type AliasState, restoreAliases, tagPromotion } from './promote.js';

export interface RolloutContext {
  config: TrainerConfig['rollout'];
  kubeConfig: () => KubeConfig;
  logger: Logger;
  signal?: AbortSignal;
}

export function deploymentRollout(ctx: RolloutContext): DeploymentRollout {
  const kc = ctx.kubeConfig();
  return createDeploymentRollout(
    kc,
    {
      namespace: ctx.config.namespace ?? defaultNamespace(kc),
      deployment: ctx.config.deployment,
      annotationKey: ctx.config.annotationKey,
    },
    ctx.logger,
  );
}

/**
 * Roll out (only after the alias moved): patch the inference Deployment's pod template with the
 * version annotation and wait like `kubectl rollout status`. Mode "none" only logs.
 */
export async function rollOutVersion(ctx: RolloutContext, version: string): Promise<void> {
  if (ctx.config.mode === 'none') {
    ctx.logger.info(
      { modelVersion: version },
      'rollout mode "none": inference pods pick up the new champion when they next start',
    );
    return;
  }
  const rollout = deploymentRollout(ctx);
  await rollout.patchVersion(version);
  await rollout.waitForRollout({
    timeoutMs: ctx.config.timeoutMs,
    pollMs: ctx.config.pollMs,
    signal: ctx.signal,
  });
}

export interface Promotion {
  modelName: string;
  version: string;
  /** The aliases before the promotion, to restore when the rollout fails. */
  before: AliasState;
  /** The training run that promoted it (named in the versions' promotion tags). */
  runId?: string;
}

/**
 * Stage 7 — roll out a promotion. On success the version is tagged `promoted`. On failure the
 * promotion is undone: both aliases restored, the version tagged `rolled-back`, the Deployment
 * patched back to the restored champion and waited for; then a ROLLOUT_FAILED error is thrown,
 * the rollout's failure its cause even when the undo fails too (the message then says both, and
 * the version stays `pending` for the next run or `status` to settle from what the alias says).
 */
export async function rollOutPromotion(ctx: RolloutContext, mlflow: MlflowClient, promotion: Promotion): Promise<void> {
  const { modelName, version, before } = promotion;
  const byRun = promotion.runId ? `run ${promotion.runId}` : 'a trainer run';
  try {
    await rollOutVersion(ctx, version);
  } catch (error) {
    const reason = errorMessage(error);
    ctx.logger.error({ err: error, modelVersion: version }, 'rollout failed: rolling back');
    try {
      await restoreAliases(mlflow, modelName, before, ctx.logger);
    } catch (restoreError) {
      ctx.logger.error({ err: restoreError, modelVersion: version }, 'moving the aliases back failed');
      throw new TrainerError(
        TrainerErrorCode.ROLLOUT_FAILED,
        `rollout of ${modelName} version ${version} failed (${reason}), and moving the aliases back failed too (${errorMessage(
          restoreError,
        )}): "champion" may still be version ${version}, and the deployment was not patched back; check with the status command, then run rollback --to-version ${
          before.champion ?? 'N'
        }`,
        { cause: error },
      );
    }
    await tagPromotion(mlflow, modelName, version, 'rolled-back', `failed rollout (${byRun})`).catch(() => undefined);
    try {
      const back = deploymentRollout(ctx);
      await back.patchVersion(before.champion);
      await back.waitForRollout({ timeoutMs: ctx.config.timeoutMs, pollMs: ctx.config.pollMs });
    } catch (backError) {
      ctx.logger.error({ err: backError }, 'rolling the deployment back failed too');
    }
    throw new TrainerError(
      TrainerErrorCode.ROLLOUT_FAILED,
      `rollout of ${modelName} version ${version} failed (${reason}); champion moved back to ${
        before.champion ? `version ${before.champion}` : 'no version'
      } and the deployment patched back`,
      { cause: error },
    );
  }
  try {
    await tagPromotion(mlflow, modelName, version, 'promoted', byRun);
    if (before.champion && before.champion !== version) {
      await tagPromotion(mlflow, modelName, before.champion, 'superseded', `v${version} (${byRun})`);
    }
  } catch (error) {
    ctx.logger.warn({ err: error }, 'could not update the promotion tags of the new and the replaced champion');
  }
}
