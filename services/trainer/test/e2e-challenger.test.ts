import { CHALLENGER_ALIAS, CHAMPION_ALIAS } from '@fallback-ctr/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli.js';
import { cleanUp, cli, mlflowClient, seedTraffic, trainerEnv, uniqueSuffix } from './support/e2e.js';
import { type FakeKubeApi, startFakeKubeApi } from './support/fake-kube-api.js';

const suffix = uniqueSuffix();
const modelName = `trainer-e2e-challenger-${suffix}`;
/** The world as it is. */
const cleanSchema = `trainer_e2e_chal_clean_${suffix}`;
/** The same world with the ad id logged wrongly (clicks still follow the true ad): a model trained on it ranks worse. */
const brokenSchema = `trainer_e2e_chal_broken_${suffix}`;
const championKey = 'fallback-ctr.io/model-version';
const challengerKey = 'fallback-ctr.io/challenger-version';
const mlflow = mlflowClient();
let kube: FakeKubeApi;

const env = (schema: string, extra: Record<string, string> = {}) =>
  trainerEnv(schema, modelName, { ROLLOUT_MODE: 'kubernetes', PROMOTE_VIA: 'challenger', ...extra });
const trainerCli = (argv: string[], schema: string, extra: Record<string, string> = {}) =>
  cli(argv, env(schema, extra), { kubeConfig: () => kube.kubeConfig() });
const aliasVersion = async (alias: string) =>
  (await mlflow.getModelVersionByAlias(modelName, alias).catch(() => null))?.version ?? null;

describe('PROMOTE_VIA=challenger end to end: real Postgres, real MLflow, Kubernetes API stand-in', () => {
  beforeAll(async () => {
    kube = await startFakeKubeApi({ namespace: 'ads', deployment: 'inference' });
    await seedTraffic(cleanSchema);
    await seedTraffic(brokenSchema, {
      degrade: { mode: 'broken-feature', field: 'ad_id', kind: 'scrambled', fromDay: 0 },
    });
  });
  afterAll(async () => {
    await kube?.close();
    await cleanUp(modelName, [cleanSchema, brokenSchema]);
  });

  it('1. no champion yet: a PASS becomes champion even in challenger mode', async () => {
    const { code, logs } = await trainerCli(['run'], brokenSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({ outcome: 'PROMOTED', modelVersion: '1' });
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBeNull();
    expect(kube.annotations()[championKey]).toBe('1');
  });

  it('2. a PASS over a champion becomes the challenger: champion untouched, pods rolled to load it', async () => {
    const patchesBefore = kube.patches.length;
    const { code, logs } = await trainerCli(['run'], cleanSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({ outcome: 'CHALLENGER', modelVersion: '2' });
    expect(String(logs.at(-1)?.msg)).toMatch(/scored in shadow beside champion 1/);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBe('2');
    expect(kube.patches.length).toBe(patchesBefore + 1);
    expect(kube.annotations()).toMatchObject({ [championKey]: '1', [challengerKey]: '2' });
    const version = await mlflow.getModelVersion(modelName, '2');
    expect(version.tags).toMatchObject({ 'gate.outcome': 'PASS', promotion: 'challenger' });
    expect((await mlflow.getModelVersion(modelName, '1')).tags.promotion).toBe('promoted');
  });
});
