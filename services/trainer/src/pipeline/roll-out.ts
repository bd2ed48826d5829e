import type { Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TrainerConfig } from '../config.js';
import { createDeploymentRollout, type DeploymentRollout, defaultNamespace } from '../rollout.js';

export interface RolloutContext {
  config: TrainerConfig['rollout'];
  kubeConfig: () => KubeConfig;
  logger: Logger;
  signal?: AbortSignal;
}

export type RolloutResult = { mode: 'none' } | { mode: 'kubernetes'; previousAnnotation: string | undefined };

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
 * Stage 6 — roll out (only after the alias moved): patch the inference Deployment's pod template
 * with the version annotation and wait like `kubectl rollout status`. Mode "none" only logs.
 */
export async function rollOutVersion(ctx: RolloutContext, version: string): Promise<RolloutResult> {
  if (ctx.config.mode === 'none') {
    ctx.logger.info(
      { modelVersion: version },
      'rollout mode "none": inference pods pick up the new champion when they next start',
    );
    return { mode: 'none' };
  }
  const rollout = deploymentRollout(ctx);
  const previousAnnotation = await rollout.currentVersion();
  await rollout.patchVersion(version);
  await rollout.waitForRollout({
    timeoutMs: ctx.config.timeoutMs,
    pollMs: ctx.config.pollMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { mode: 'kubernetes', previousAnnotation };
}
