import { silentLogger } from '@fallback-ctr/runtime';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANNOTATION_KEY,
  adminKubeconfig,
  deleteNamespace,
  INFERENCE_DEPLOYMENT,
  namespaceWithBase,
  replicaSets,
  type ServiceAccountIdentity,
  setProgressDeadline,
  settled,
  TRAINER_SERVICE_ACCOUNT,
  useNoSurgeQuota,
  waitFor,
} from '../../../test/cluster/cluster.js';
import { createDeploymentRollout, type DeploymentRollout, defaultKubeConfig } from '../src/deployment-rollout.js';
import { TrainerErrorCode } from '../src/errors.js';

let namespace = '';
let trainer: ServiceAccountIdentity;
let rollout: DeploymentRollout;
const target = () => ({ namespace, deployment: INFERENCE_DEPLOYMENT, annotationKey: ANNOTATION_KEY });
const patient = { timeoutMs: 240_000, pollMs: 250 };

/** What the pods looked like while a rollout ran, sampled as the admin. */
interface Sample {
  live: number;
  ready: number;
  updatedReady: number;
}

/** Samples the namespace's inference pods until stopped (in-process client: fast enough to see each step). */
function samplePods(templateAnnotation: string): { stop(): Promise<Sample[]> } {
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfig());
  const core = kc.makeApiClient(CoreV1Api);
  const samples: Sample[] = [];
  let running = true;
  const newReplicaSets = () =>
    new Set(
      replicaSets(namespace)
        .filter((rs) => rs.spec.template.metadata?.annotations?.[ANNOTATION_KEY] === templateAnnotation)
        .map((rs) => rs.metadata.name),
    );
  const loop = (async () => {
    let fresh = new Set<string>();
    while (running) {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=inference' });
      if (fresh.size === 0) fresh = newReplicaSets();
      const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
      const isReady = (p: (typeof live)[number]) =>
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      samples.push({
        live: live.length,
        ready: live.filter(isReady).length,
        updatedReady: live.filter((p) => isReady(p) && fresh.has(p.metadata?.ownerReferences?.[0]?.name ?? '')).length,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

describe('DeploymentRollout against a real API server, as the trainer ServiceAccount', () => {
  beforeAll(async () => {
    ({ namespace, trainer } = await namespaceWithBase('rollout'));
    rollout = createDeploymentRollout(trainer.kubeConfig(), target(), silentLogger());
  });
  afterAll(() => {
    if (namespace) deleteNamespace(namespace);
  });

  it('patch → a new ReplicaSet → one pod at a time, never below 3 ready → done; the annotation names the version', async () => {
    const before = settled(namespace, 3);
    expect(before).toBeDefined();
    const sampler = samplePods('7');
    const started = Date.now();
    const generation = await rollout.patchVersion('7');
    expect(generation).toBeGreaterThan(1);
    await rollout.waitForRollout(patient);
    const elapsedMs = Date.now() - started;
    const samples = await sampler.stop();

    const after = await waitFor('the new ReplicaSet to own all pods', () => settled(namespace, 3));
    expect(after.metadata.name).not.toBe(before?.metadata.name);
    expect(after.spec.template.metadata?.annotations?.[ANNOTATION_KEY]).toBe('7');
    expect(await rollout.currentVersion()).toBe('7');
    // maxSurge 1, maxUnavailable 0: at most one extra pod, never fewer than 3 ready ones...
    expect(Math.max(...samples.map((s) => s.live))).toBeLessThanOrEqual(4);
    expect(Math.min(...samples.map((s) => s.ready))).toBeGreaterThanOrEqual(3);
    // ...and new pods turned ready one at a time: each count from 1 to 3 was seen, in order.
    const steps = [...new Set(samples.map((s) => s.updatedReady))];
    expect(steps.filter((n) => n > 0)).toEqual([1, 2, 3]);
    console.info(`3-replica rollout through the trainer's token: ${(elapsedMs / 1000).toFixed(1)} s`);
  });

  it('null removes the annotation again (another rollout), other template annotations stay', async () => {
    await rollout.patchVersion(null);
    await rollout.waitForRollout(patient);
    expect(await rollout.currentVersion()).toBeUndefined();
    const rs = await waitFor('the un-annotated ReplicaSet to own all pods', () => settled(namespace, 3));
    expect(rs.spec.template.metadata?.annotations?.[ANNOTATION_KEY]).toBeUndefined();
    expect(rs.spec.template.metadata?.annotations?.['prometheus.io/scrape']).toBe('true');
  });

  it('finds the cluster, credentials and namespace through KUBECONFIG, as the binary does', async () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = trainer.file;
    try {
      const viaDefault = createDeploymentRollout(defaultKubeConfig(), target(), silentLogger());
      await viaDefault.patchVersion('11');
      await viaDefault.waitForRollout(patient);
      expect(await viaDefault.currentVersion()).toBe('11');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  describe('when new pods cannot start (a pod quota leaves no room for the surge pod)', () => {
    useNoSurgeQuota(() => namespace);

    it('the wait times out (TRAINER_ROLLOUT_TIMEOUT) and the old pods keep serving', async () => {
      await rollout.patchVersion('12');
      await expect(rollout.waitForRollout({ timeoutMs: 3_000, pollMs: 250 })).rejects.toMatchObject({
        code: TrainerErrorCode.ROLLOUT_TIMEOUT,
        message: expect.stringMatching(/did not finish rolling out within 3 s/),
      });
      await rollout.patchVersion('11');
      await rollout.waitForRollout(patient);
    });

    it('the controller gives up at progressDeadlineSeconds: TRAINER_ROLLOUT_FAILED', async () => {
      // The shortest deadline the API server accepts: it must exceed minReadySeconds (5).
      setProgressDeadline(namespace, 6);
      await rollout.patchVersion('13');
      await expect(rollout.waitForRollout(patient)).rejects.toMatchObject({
        code: TrainerErrorCode.ROLLOUT_FAILED,
        message: expect.stringMatching(/exceeded its progress deadline/),
      });
      await rollout.patchVersion('11');
      await rollout.waitForRollout(patient);
      const rs = await waitFor('the old ReplicaSet to own all pods again', () => settled(namespace, 3));
      expect(rs.spec.template.metadata?.annotations?.[ANNOTATION_KEY]).toBe('11');
    });
  });

  it("API errors carry the server's Status message, not its JSON", async () => {
    const other = createDeploymentRollout(
      trainer.kubeConfig(),
      { ...target(), deployment: 'some-other-deployment' },
      silentLogger(),
    );
    const error = await other.patchVersion('1').then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe(TrainerErrorCode.KUBERNETES_API);
    expect(error?.message).toMatch(
      new RegExp(
        `HTTP 403: deployments.apps "some-other-deployment" is forbidden: User "system:serviceaccount:${namespace}:${TRAINER_SERVICE_ACCOUNT}" cannot patch`,
      ),
    );
    expect(error?.message).not.toMatch(/"kind"|"apiVersion"|\{/);
  });
});
