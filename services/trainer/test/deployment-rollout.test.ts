import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@fallback-ctr/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createDeploymentRollout,
  type DeploymentRollout,
  defaultKubeConfig,
  defaultNamespace,
  rolloutProgress,
} from '../src/deployment-rollout.js';
import { TrainerErrorCode } from '../src/errors.js';
import { type FakeKubeApi, startFakeKubeApi, statuses } from './support/fake-kube-api.js';

const target = { namespace: 'ads', deployment: 'inference', annotationKey: 'fallback-ctr.io/model-version' };
const fast = { timeoutMs: 2_000, pollMs: 10 };

describe('rolloutProgress (kubectl rollout status rule)', () => {
  const dep = (status: Record<string, unknown>, generation = 2) => ({
    metadata: { name: 'inference', generation },
    spec: { replicas: 3, selector: {}, template: {} },
    status,
  });
  it('waits, fails and finishes like kubectl', () => {
    expect(rolloutProgress(dep(statuses.notObserved()(2, 3))).state).toBe('waiting');
    expect(rolloutProgress(dep(statuses.progressing(1)(2, 3))).message).toMatch(/1 of 3 new replicas/);
    expect(rolloutProgress(dep({ ...statuses.complete()(2, 3), replicas: 4 })).message).toMatch(/pending termination/);
    expect(rolloutProgress(dep({ ...statuses.complete()(2, 3), availableReplicas: 2 })).message).toMatch(
      /2 of 3 updated replicas are available/,
    );
    expect(rolloutProgress(dep(statuses.deadlineExceeded()(2, 3))).state).toBe('failed');
    expect(rolloutProgress(dep(statuses.complete()(2, 3))).state).toBe('done');
  });
});

describe('DeploymentRollout against the API-server stand-in', () => {
  let kube: FakeKubeApi;
  let rollout: DeploymentRollout;
  beforeEach(async () => {
    kube = await startFakeKubeApi({ namespace: 'ads', deployment: 'inference', annotations: { other: 'kept' } });
    rollout = createDeploymentRollout(kube.kubeConfig(), target, silentLogger());
  });
  afterEach(async () => kube.close());

  it('sends a strategic-merge patch of the pod-template annotation and waits for the rollout', async () => {
    kube.scriptRollouts([
      statuses.notObserved(),
      statuses.progressing(1),
      statuses.progressing(2),
      statuses.complete(),
    ]);
    const generation = await rollout.patchVersion('7');
    expect(generation).toBe(2);
    expect(kube.patches).toHaveLength(1);
    expect(kube.patches[0]).toEqual({
      path: '/apis/apps/v1/namespaces/ads/deployments/inference',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { metadata: { annotations: { 'fallback-ctr.io/model-version': '7' } } } } },
    });
    await rollout.waitForRollout(fast);
    expect(kube.reads).toBe(4);
    expect(kube.annotations()).toEqual({ other: 'kept', 'fallback-ctr.io/model-version': '7' });
    expect(await rollout.currentVersion()).toBe('7');
  });

  it('fails on ProgressDeadlineExceeded', async () => {
    kube.scriptRollouts([statuses.progressing(1), statuses.deadlineExceeded()]);
    await rollout.patchVersion('8');
    await expect(rollout.waitForRollout(fast)).rejects.toMatchObject({
      code: TrainerErrorCode.ROLLOUT_FAILED,
      message: expect.stringMatching(/exceeded its progress deadline/),
    });
  });

  it('times out when the rollout never converges', async () => {
    kube.scriptRollouts([statuses.progressing(1)]);
    await rollout.patchVersion('9');
    await expect(rollout.waitForRollout({ timeoutMs: 200, pollMs: 20 })).rejects.toMatchObject({
      code: TrainerErrorCode.ROLLOUT_TIMEOUT,
    });
  });

  it('finds the cluster and namespace through KUBECONFIG, as the binary does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: fake, cluster: { server: "${kube.url}", insecure-skip-tls-verify: true } }]`,
        'users: [{ name: trainer, user: { token: test-token } }]',
        'contexts: [{ name: fake, context: { cluster: fake, user: trainer, namespace: ads } }]',
        'current-context: fake',
      ].join('\n'),
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      const kc = defaultKubeConfig();
      expect(defaultNamespace(kc)).toBe('ads');
      const viaDefault = createDeploymentRollout(kc, target, silentLogger());
      await viaDefault.patchVersion('11');
      await viaDefault.waitForRollout(fast);
      expect(kube.annotations()[target.annotationKey]).toBe('11');
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('removes the annotation when patched with null', async () => {
    await rollout.patchVersion('5');
    await rollout.patchVersion(null);
    expect(kube.patches.at(-1)?.body).toEqual({
      spec: { template: { metadata: { annotations: { 'fallback-ctr.io/model-version': null } } } },
    });
    expect(kube.annotations()).toEqual({ other: 'kept' });
  });

  it('reports API errors with an actionable message', async () => {
    kube.failWith(403);
    await expect(rollout.patchVersion('1')).rejects.toMatchObject({
      code: TrainerErrorCode.KUBERNETES_API,
      // The Status message, not the JSON text of the body the client hands over.
      message: expect.stringMatching(/cannot patch deployment ads\/inference .*HTTP 403: injected$/),
    });
  });
});
