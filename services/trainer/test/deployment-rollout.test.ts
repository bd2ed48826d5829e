import { silentLogger } from '@fallback-ctr/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeploymentRollout, type DeploymentRollout, rolloutProgress } from '../src/deployment-rollout.js';
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

// The real API server (deployment-rollout.cluster.test.ts) covers patching, waiting, deadlines,
// time-outs and RBAC refusals. The in-process stand-in stays only for what a real server cannot be
// made to do on demand: answer every request with an injected error status.
describe('DeploymentRollout when the API server answers with errors (stand-in)', () => {
  let kube: FakeKubeApi;
  let rollout: DeploymentRollout;
  beforeEach(async () => {
    kube = await startFakeKubeApi({ namespace: 'ads', deployment: 'inference' });
    rollout = createDeploymentRollout(kube.kubeConfig(), target, silentLogger());
  });
  afterEach(async () => kube.close());

  it('a refused patch: actionable message with the Status message, not its JSON', async () => {
    kube.failWith(403);
    const error = await rollout.patchVersion('1').then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error).toMatchObject({
      code: TrainerErrorCode.KUBERNETES_API,
      message: expect.stringMatching(
        /cannot patch deployment ads\/inference \(needs RBAC verbs get, patch on it\): HTTP 403: injected$/,
      ),
    });
  });

  it('an unavailable API server while waiting: TRAINER_KUBERNETES_API naming the read', async () => {
    await rollout.patchVersion('2');
    kube.failWith(503);
    await expect(rollout.waitForRollout(fast)).rejects.toMatchObject({
      code: TrainerErrorCode.KUBERNETES_API,
      message: expect.stringMatching(/cannot read deployment ads\/inference: HTTP 503: injected$/),
    });
  });
});
