import { createMlflowClient } from '@fallback-ctr/mlflow';
import { VersionTag } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The one fault a real MLflow cannot be made to produce on cue: calls cut while the rest answer.
import { startFaultProxy } from '../../../libs/mlflow/test/support/fault-proxy.js';
import type { TrainerConfig } from '../src/config.js';
import { TrainerError, TrainerErrorCode } from '../src/errors.js';
import { promoteVersion, readAliases, tagPromotion } from '../src/pipeline/promote.js';
import { type RolloutContext, rollOutPromotion, rollOutVersion } from '../src/pipeline/rollout-stage.js';
import { RECONCILED_TAG, reconcileLeftovers } from '../src/reconcile.js';
import { cleanUp, mlflowClient, registerVersions, trackingUri, uniqueSuffix } from './support/e2e.js';
import { type FakeKubeApi, startFakeKubeApi, statuses } from './support/fake-kube-api.js';

const mlflow = mlflowClient();
const logger = silentLogger();
const annotationKey = 'fallback-ctr.io/model-version';
let kube: FakeKubeApi;
let modelName: string;

const rolloutConfig: TrainerConfig['rollout'] = {
  mode: 'kubernetes',
  namespace: 'ads',
  deployment: 'inference',
  annotationKey,
  timeoutMs: 30_000,
  pollMs: 10,
};
const context = (): RolloutContext => ({ config: rolloutConfig, kubeConfig: () => kube.kubeConfig(), logger });
const patched = () =>
  kube.patches.map(
    (p) =>
      (p.body as { spec: { template: { metadata: { annotations: Record<string, string | null> } } } }).spec.template
        .metadata.annotations[annotationKey],
  );

/** A registered model with `count` versions, all `promotion=pending` as a run leaves them before the alias moves. */
const registerPending = (count: number) =>
  registerVersions(mlflow, modelName, count, { [VersionTag.GATE_OUTCOME]: 'PASS', [VersionTag.PROMOTION]: 'pending' });

describe('rolling a promotion out, and out again', () => {
  // A fresh Deployment per test: its scripted rollouts and annotations start clean.
  beforeEach(async () => {
    modelName = `trainer-rollout-${uniqueSuffix()}`;
    kube = await startFakeKubeApi({ namespace: 'ads', deployment: 'inference' });
  });
  afterEach(async () => {
    await kube.close();
    await cleanUp(modelName, []);
  });

  it('a failed rollout whose undo fails too stays TRAINER_ROLLOUT_FAILED, caused by the rollout, and says both', async () => {
    await registerPending(2);
    await promoteVersion(mlflow, modelName, '1', logger);
    const before = await promoteVersion(mlflow, modelName, '2', logger);
    // MLflow stops answering alias calls (it went away) just as the rollout fails.
    const proxy = await startFaultProxy(trackingUri(), (_method, path) =>
      path.endsWith('/registered-models/alias') ? { kind: 'reset' } : { kind: 'pass' },
    );
    kube.scriptRollouts([statuses.progressing(1), statuses.deadlineExceeded()]);
    let thrown: unknown;
    try {
      const cut = createMlflowClient({ trackingUri: proxy.url, retry: { maxAttempts: 2, initialDelayMs: 1 } });
      await rollOutPromotion(context(), cut, { modelName, version: '2', before }).catch((e: unknown) => {
        thrown = e;
      });
    } finally {
      await proxy.close();
    }
    expect(thrown).toBeInstanceOf(TrainerError);
    const error = thrown as TrainerError;
    expect(error.code).toBe(TrainerErrorCode.ROLLOUT_FAILED);
    expect(error.message).toMatch(/progress deadline.*moving the aliases back failed too \(.*registered-models\/alias/);
    expect(error.message).toMatch(/rollback --to-version 1/);
    expect((error.cause as TrainerError).code).toBe(TrainerErrorCode.ROLLOUT_FAILED);
    expect((error.cause as Error).message).toMatch(/progress deadline/i);
    // Nothing pretends the undo happened: champion is still 2, pending, and the Deployment not patched back.
    expect(await readAliases(mlflow, modelName)).toEqual({ champion: '2', previousChampion: '1' });
    expect((await mlflow.getModelVersion(modelName, '2')).tags[VersionTag.PROMOTION]).toBe('pending');
    expect(patched()).toEqual(['2']);
  });

  it('reconciling finishes the rollout of a champion left pending, and marks it promoted', async () => {
    await registerPending(2);
    await promoteVersion(mlflow, modelName, '1', logger);
    await tagPromotion(mlflow, modelName, '1', 'promoted');
    // A run moved champion to 2 and died before its rollout: the Deployment still names version 1.
    await promoteVersion(mlflow, modelName, '2', logger);
    kube.scriptRollouts([statuses.progressing(1), statuses.complete()]);
    const rollOut = (version: string) => rollOutVersion(context(), version);

    const leftovers = await reconcileLeftovers(
      mlflow,
      { modelName, experimentName: modelName },
      'the test',
      logger,
      rollOut,
    );
    expect(leftovers.versions).toEqual([{ version: '2', isChampion: true, rolledOut: true }]);
    expect(patched()).toEqual(['2']);
    expect(kube.annotations()[annotationKey]).toBe('2');
    const v2 = await mlflow.getModelVersion(modelName, '2');
    expect(v2.tags[VersionTag.PROMOTION]).toBe('promoted');
    expect(v2.tags[RECONCILED_TAG]).toMatch(/rolled out again at .* by the test/);
  });

  it('a champion whose rollout fails again stays pending, for the next time', async () => {
    await registerPending(1);
    await promoteVersion(mlflow, modelName, '1', logger);
    kube.scriptRollouts([statuses.progressing(1), statuses.deadlineExceeded()]);
    const leftovers = await reconcileLeftovers(
      mlflow,
      { modelName, experimentName: modelName },
      'the test',
      logger,
      (version) => rollOutVersion(context(), version),
    );
    expect(leftovers.versions).toEqual([{ version: '1', isChampion: true, rolledOut: false }]);
    const v1 = await mlflow.getModelVersion(modelName, '1');
    expect(v1.tags[VersionTag.PROMOTION]).toBe('pending');
    expect(v1.tags[RECONCILED_TAG]).toMatch(/rolling it out again failed .*progress deadline/i);
  });
});
