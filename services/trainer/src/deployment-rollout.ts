import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import {
  ApiException,
  AppsV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { TrainerError, TrainerErrorCode } from './errors.js';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface RolloutTarget {
  namespace: string;
  deployment: string;
  /** Pod-template annotation whose value names the model version. */
  annotationKey: string;
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
}

/** Where a Deployment stands, in the words of `kubectl rollout status`. */
export type RolloutProgress =
  | { state: 'done'; message: string }
  | { state: 'waiting'; message: string }
  | { state: 'failed'; message: string };

/**
 * The `kubectl rollout status` rule for a Deployment: wait until the controller has observed the
 * latest generation, fail on ProgressDeadlineExceeded, wait while updated, total and available
 * replica counts have not converged.
 */
export function rolloutProgress(d: V1Deployment): RolloutProgress {
  const name = d.metadata?.name ?? '(unnamed)';
  const generation = d.metadata?.generation ?? 0;
  const status = d.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { state: 'waiting', message: `waiting for deployment "${name}" spec update to be observed` };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      message: `deployment "${name}" exceeded its progress deadline: ${progressing.message ?? ''}`.trim(),
    };
  }
  const wanted = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) {
    return { state: 'waiting', message: `${updated} of ${wanted} new replicas have been updated` };
  }
  if (replicas > updated) {
    return { state: 'waiting', message: `${replicas - updated} old replicas are pending termination` };
  }
  if (available < updated) {
    return { state: 'waiting', message: `${available} of ${updated} updated replicas are available` };
  }
  return { state: 'done', message: `deployment "${name}" successfully rolled out` };
}

/** KubeConfig from KUBECONFIG / ~/.kube/config, or the in-cluster service account. */
export function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** The namespace to use when none is configured: the pod's own, else the kubeconfig context's, else "default". */
export function defaultNamespace(kc: KubeConfig): string {
  try {
    const ns = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
    if (ns) return ns;
  } catch {
    // not in a pod
  }
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** The part of a Kubernetes `Status` error body worth showing: its message. */
const KubeStatusSchema = z.object({ message: z.string() });

/**
 * The client (1.4) hands the error body over as the raw JSON text of a `Status`; its message
 * ("deployments.apps "x" is forbidden: User ... cannot patch ...") is what a person needs.
 */
function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = undefined;
      }
    }
    const status = KubeStatusSchema.safeParse(parsed);
    const detail = status.success ? status.data.message : String(body);
    return `HTTP ${error.code}: ${detail}`;
  }
  return errorMessage(error);
}

export interface DeploymentRollout {
  readonly target: RolloutTarget;
  /**
   * Sets the version annotation on the pod template (a strategic-merge patch; null removes it);
   * returns the Deployment's generation after the patch.
   */
  patchVersion(version: string | null): Promise<number>;
  /** Reads the annotation currently on the pod template. */
  currentVersion(): Promise<string | undefined>;
  /** Polls the Deployment like `kubectl rollout status` until done, failed or timed out. */
  waitForRollout(options: WaitOptions): Promise<void>;
}

export function createDeploymentRollout(kc: KubeConfig, target: RolloutTarget, logger: Logger): DeploymentRollout {
  const api = kc.makeApiClient(AppsV1Api);
  const ref = { name: target.deployment, namespace: target.namespace };
  const where = `deployment ${target.namespace}/${target.deployment}`;

  const read = async (): Promise<V1Deployment> => {
    try {
      return await api.readNamespacedDeployment(ref);
    } catch (error) {
      throw new TrainerError(TrainerErrorCode.KUBERNETES_API, `cannot read ${where}: ${describeApiError(error)}`, {
        cause: error,
      });
    }
  };

  return {
    target,
    async patchVersion(version) {
      const body = { spec: { template: { metadata: { annotations: { [target.annotationKey]: version } } } } };
      try {
        const patched = await api.patchNamespacedDeployment(
          { ...ref, body },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
        const generation = patched.metadata?.generation ?? 0;
        logger.info({ ...target, modelVersion: version, generation }, 'patched the inference deployment');
        return generation;
      } catch (error) {
        throw new TrainerError(
          TrainerErrorCode.KUBERNETES_API,
          `cannot patch ${where} (needs RBAC verbs get, patch on it): ${describeApiError(error)}`,
          { cause: error },
        );
      }
    },
    async currentVersion() {
      const d = await read();
      return d.spec?.template?.metadata?.annotations?.[target.annotationKey];
    },
    async waitForRollout({ timeoutMs, pollMs, signal }) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        const progress = rolloutProgress(await read());
        if (progress.message !== last) {
          logger.info({ ...target, rollout: progress.state }, progress.message);
          last = progress.message;
        }
        if (progress.state === 'done') return;
        if (progress.state === 'failed') {
          throw new TrainerError(TrainerErrorCode.ROLLOUT_FAILED, progress.message);
        }
        if (Date.now() + pollMs > deadline) {
          throw new TrainerError(
            TrainerErrorCode.ROLLOUT_TIMEOUT,
            `${where} did not finish rolling out within ${Math.round(timeoutMs / 1000)} s (last: ${progress.message})`,
          );
        }
        await sleep(pollMs, undefined, signal ? { signal } : undefined);
      }
    },
  };
}
