import { ARTIFACT_FILE_NAME, CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, parseArtifact } from '@fallback-ctr/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANNOTATION_KEY,
  deleteNamespace,
  INFERENCE_DEPLOYMENT,
  kubectlOk,
  namespaceWithBase,
  pods,
  replicaSets,
  type ServiceAccountIdentity,
  setProgressDeadline,
  settled,
  useNoSurgeQuota,
  waitFor,
} from '../../../test/cluster/cluster.js';
import { ExitCode } from '../src/cli.js';
import { cli, e2eNames, mlflowClient, searchTrials, seedTraffic, trainerEnv } from './support/e2e.js';

const names = e2eNames();
const modelName = names.model('trainer-e2e-lifecycle');
const goodSchema = names.schema('trainer_e2e_good');
const shuffledSchema = names.schema('trainer_e2e_shuffled');
const mlflow = mlflowClient();
let namespace = '';
let trainer: ServiceAccountIdentity;

const env = (schema: string, extra: Record<string, string> = {}) =>
  trainerEnv(schema, modelName, {
    ROLLOUT_MODE: 'kubernetes',
    K8S_NAMESPACE: namespace,
    K8S_DEPLOYMENT: INFERENCE_DEPLOYMENT,
    ROLLOUT_TIMEOUT_SECONDS: '240',
    ROLLOUT_POLL_SECONDS: '0.25',
    ...extra,
  });
// The trainer signs in with its own ServiceAccount's token, bound by the manifests' Role.
const run = (schema: string, extra: Record<string, string> = {}) =>
  cli(['run'], env(schema, extra), { kubeConfig: () => trainer.kubeConfig() });
const templateVersion = () =>
  JSON.parse(kubectlOk(['-n', namespace, 'get', 'deployment', INFERENCE_DEPLOYMENT, '-o', 'json'])).spec.template
    .metadata.annotations?.[ANNOTATION_KEY] as string | undefined;
/** The ReplicaSet that owns every (ready) inference pod, once the Deployment has settled. */
const servingReplicaSet = () => waitFor('the inference pods to settle on one ReplicaSet', () => settled(namespace, 3));
const servingVersion = async () => (await servingReplicaSet()).spec.template.metadata?.annotations?.[ANNOTATION_KEY];
const aliasVersion = async (alias: string) =>
  (await mlflow.getModelVersionByAlias(modelName, alias).catch(() => null))?.version ?? null;
/** A version's promotion tags: what happened to it and which move did it (a text, or a matcher). */
async function expectPromotion(version: string, promotion: string, by: unknown): Promise<void> {
  expect((await mlflow.getModelVersion(modelName, version)).tags).toMatchObject({ promotion, 'promotion.by': by });
}
/**
 * Where the champion stands, in MLflow and in the cluster: the alias (and previous-champion, when
 * given), the Deployment's pod template, and the ReplicaSet every pod belongs to.
 */
async function expectChampion(version: string, previous?: string | null): Promise<void> {
  expect(await aliasVersion(CHAMPION_ALIAS)).toBe(version);
  if (previous !== undefined) expect(await aliasVersion(PREVIOUS_CHAMPION_ALIAS)).toBe(previous);
  expect(templateVersion()).toBe(version);
  expect(await servingVersion()).toBe(version);
}

describe('trainer end to end: real Postgres, real MLflow, real Kubernetes API server', () => {
  beforeAll(async () => {
    ({ namespace, trainer } = await namespaceWithBase('lifecycle'));
    await seedTraffic(goodSchema);
    await seedTraffic(shuffledSchema, { degrade: { mode: 'shuffled-labels', fromDay: 0 } });
  });
  afterAll(async () => {
    if (namespace) deleteNamespace(namespace);
  });

  it('1. first run on good data: PASS, version 1 is champion, rolled out, run fully recorded', async () => {
    const { code, logs } = await run(goodSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({
      outcome: 'PROMOTED',
      modelVersion: '1',
      gate: 'PASS',
    });
    expect(logs.some((l) => typeof l.progress === 'object')).toBe(true);

    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    // Rolled out for real: every pod now belongs to the ReplicaSet whose template names version 1.
    expect(await servingVersion()).toBe('1');
    expect(pods(namespace)).toHaveLength(3);

    const version = await mlflow.getModelVersion(modelName, '1');
    expect(version.tags).toMatchObject({ 'gate.outcome': 'PASS', promotion: 'promoted' });
    expect(Number(version.tags['holdout.auc'])).toBeGreaterThan(0.55);
    const bytes = await mlflow.downloadModelVersionArtifact(modelName, '1', ARTIFACT_FILE_NAME);
    expect(parseArtifact(bytes).sha256).toBe(version.tags['artifact.sha256']);

    const r = await mlflow.getRun(version.runId);
    expect(r.info.status).toBe('FINISHED');
    expect(version.source).toBe(`${r.info.artifactUri}/model`);
    expect(r.data.params).toMatchObject({ 'ftrl.alpha': '0.1', 'window.train_hours': '96', 'gate.minAuc': '0.55' });
    expect(r.data.params.feature_spec).toContain('hashBits');
    // FTRL_ALPHA and FTRL_L1 are set (pinned); λ2 and the passes were chosen by the search, whose
    // candidates are nested runs of this one.
    expect(Number(r.data.params['ftrl.l2'])).toBeGreaterThanOrEqual(0);
    expect(Number(r.data.params['train.passes'])).toBeGreaterThanOrEqual(1);
    expect(r.data.params['search.ran']).toBe('true');
    const trials = await searchTrials(mlflow, r);
    expect(trials.length).toBe(r.data.metrics.search_trials);
    expect(trials.length).toBeGreaterThan(1);
    for (const t of trials) {
      expect(t.data.params).toMatchObject({ 'ftrl.alpha': '0.1', 'ftrl.l1': '0.5' });
      expect(t.data.metrics.validation_logloss).toBeGreaterThan(0);
    }
    const best = Math.min(...trials.map((t) => t.data.metrics.validation_logloss as number));
    expect(r.data.metrics.search_validation_logloss).toBeLessThanOrEqual(best + 1e-12);
    for (const key of ['holdout_auc', 'holdout_logloss', 'holdout_ne', 'holdout_calibration', 'train_base_rate']) {
      expect(r.data.metrics[key], key).toBeTypeOf('number');
    }
    expect(r.data.metrics.train_running_logloss).toBeTypeOf('number');
    expect(r.data.metrics.pass_progressive_logloss).toBeTypeOf('number');
    const top = (await mlflow.listArtifacts(r.info.artifactUri)).map((f) => f.path).sort();
    expect(top).toEqual(expect.arrayContaining(['gate-report.json', 'model', 'plots']));
    const plots = (await mlflow.listArtifacts(r.info.artifactUri, 'plots')).map((f) => f.path).sort();
    expect(plots).toEqual(['plots/reliability.png', 'plots/reliability.svg', 'plots/roc.png', 'plots/roc.svg']);
    const png = await mlflow.downloadArtifact(r.info.artifactUri, 'plots/reliability.png');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const svg = (await mlflow.downloadArtifact(r.info.artifactUri, 'plots/roc.svg')).toString('utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const report = JSON.parse((await mlflow.downloadArtifact(r.info.artifactUri, 'gate-report.json')).toString());
    expect(report.decision.outcome).toBe('PASS');
    expect(report.decision.checks).toHaveLength(10);
    expect(Object.keys(report).slice(0, 2)).toEqual(['outcome', 'failedChecks']);
    expect(report).toMatchObject({ outcome: 'PASS', failedChecks: [] });

    // What MLflow's pages show: the view, the run's name, description, source and user, the version's schema.
    const experiment = await mlflow.getExperimentByName(modelName);
    expect(experiment?.tags['mlflow.experimentKind']).toBe('custom_model_development');
    expect(r.info.runName).toBe('v1 PROMOTED · 03-01 00:00 → 03-05 00:00 UTC');
    expect(r.data.tags['mlflow.note.content']).toMatch(/^### Gate PASS — /);
    expect(r.data.tags).toMatchObject({
      'mlflow.source.name': 'fallback-ctr-trainer run',
      'mlflow.source.type': 'JOB',
    });
    expect(r.data.tags['mlflow.user']).toMatch(/.@./);
    const summary = (await mlflow.downloadArtifact(r.info.artifactUri, 'gate-summary.md')).toString();
    expect(summary.split('\n')[2]).toMatch(/^\*\*Outcome: PASS\*\*/);
    const mlmodel = (await mlflow.downloadModelVersionArtifact(modelName, '1', 'MLmodel')).toString();
    expect(mlmodel).toContain('  inputs: "[{\\"name\\":\\"');
    expect(version.description).toMatch(/^\*\*Gate PASS\*\*/);
  });

  it('2. second run on shuffled labels: FAIL, version 2 tagged with reasons, champion stays 1, no patch', async () => {
    const { code, logs } = await run(shuffledSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1)).toMatchObject({ outcome: 'REJECTED', modelVersion: '2', gate: 'FAIL' });
    const version = await mlflow.getModelVersion(modelName, '2');
    expect(version.tags['gate.outcome']).toBe('FAIL');
    expect(version.tags['gate.reasons']).toMatch(/auc/);
    expect(version.tags.promotion).toBe('not-eligible');
    expect(version.tags['gate.champion_version']).toBe('1');
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(templateVersion()).toBe('1');
    expect(replicaSets(namespace)).toHaveLength(2);
    const r = await mlflow.getRun(version.runId);
    expect(r.info.status).toBe('FINISHED');
    expect(r.data.metrics.champion_holdout_auc).toBeTypeOf('number');
  });

  describe('when the new pods cannot start (a pod quota leaves no room for the surge pod)', () => {
    useNoSurgeQuota(() => namespace);

    it('3. rollout hits ProgressDeadlineExceeded: champion returns to 1, deployment patched back, exit 3', async () => {
      // The shortest deadline the API server accepts: it must exceed minReadySeconds (5).
      setProgressDeadline(namespace, 6);
      const { code, logs } = await run(goodSchema);
      expect(code).toBe(ExitCode.ROLLOUT_FAILED);
      expect(logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: 'TRAINER_ROLLOUT_FAILED' });
      expect(String(logs.at(-1)?.msg)).toMatch(/progress deadline.*champion moved back to version 1/);
      await expectChampion('1', null);
      const version = await mlflow.getModelVersion(modelName, '3');
      expect(version.tags).toMatchObject({ 'gate.outcome': 'PASS', promotion: 'rolled-back' });
      const r = await mlflow.getRun(version.runId);
      expect(r.info.status).toBe('FAILED');
      expect(r.data.tags['error.code']).toBe('TRAINER_ROLLOUT_FAILED');
    });

    it('4. rollout outlasts ROLLOUT_TIMEOUT_SECONDS: the same restore, exit 3', async () => {
      setProgressDeadline(namespace, 600);
      const { code, logs } = await run(goodSchema, { ROLLOUT_TIMEOUT_SECONDS: '3' });
      expect(code).toBe(ExitCode.ROLLOUT_FAILED);
      expect(logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: 'TRAINER_ROLLOUT_FAILED' });
      expect(String(logs.at(-1)?.msg)).toMatch(
        /did not finish rolling out within 3 s.*champion moved back to version 1/,
      );
      await expectChampion('1', null);
      expect((await mlflow.getModelVersion(modelName, '4')).tags.promotion).toBe('rolled-back');
    });
  });

  it("5. a second promotion replaces every pod: they are all the new ReplicaSet's", async () => {
    const before = await servingReplicaSet();
    const promoted = await run(goodSchema);
    expect(promoted.code).toBe(ExitCode.OK);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('5');
    expect(await aliasVersion(PREVIOUS_CHAMPION_ALIAS)).toBe('1');
    const after = await servingReplicaSet();
    expect(after.metadata.name).not.toBe(before.metadata.name);
    expect(after.spec.template.metadata?.annotations?.[ANNOTATION_KEY]).toBe('5');
    for (const pod of pods(namespace)) expect(pod.metadata.ownerReferences?.[0]?.name).toBe(after.metadata.name);
    await expectPromotion('1', 'superseded', expect.stringMatching(/^v5 \(run [0-9a-f]{32}\)$/));
  });

  it('6. rollback moves champion to the previous version and rolls out', async () => {
    const { code, logs } = await cli(['rollback'], env(goodSchema), { kubeConfig: () => trainer.kubeConfig() });
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1)).toMatchObject({ outcome: 'ROLLED_BACK', from: '5', to: '1', direction: 'back' });
    await expectChampion('1', '5');
    // The promotion tags tell the story: 5 replaced 1, then the rollback put 1 back.
    await expectPromotion('1', 'promoted', 'rollback from v5');
    await expectPromotion('5', 'rolled-back', 'rollback to v1');

    const status = await cli(['status', '--json'], env(goodSchema));
    expect(status.code).toBe(ExitCode.OK);
    const parsed = JSON.parse(status.stdout);
    expect(parsed).toMatchObject({ champion: '1', previousChampion: '5' });
    expect(parsed.versions.map((v: { version: string }) => v.version)).toEqual(['5', '4', '3', '2', '1']);
    expect(parsed.versions[3]).toMatchObject({ gateOutcome: 'FAIL', promotion: 'not-eligible' });

    // status reads MLflow only: without DATABASE_URL it still shows the table (and says it left leftovers alone).
    const { DATABASE_URL: _db, ...withoutDatabase } = env(goodSchema);
    const statusOnly = await cli(['status'], withoutDatabase);
    expect(statusOnly.code, statusOnly.stderr).toBe(ExitCode.OK);
    expect(statusOnly.stdout).toMatch(/^champion:\s+1$/m);
    expect(statusOnly.stdout).toMatch(/leftovers: not checked \(DATABASE_URL is not set/);

    // A wrong target is one plain line on stderr and exit 2: no log line, no stack, no patch.
    for (const [target, said] of [
      ['1', /^rollback: version 1 is already the champion of trainer-e2e-lifecycle-\w+\n$/],
      ['99', /^rollback: trainer-e2e-lifecycle-\w+ has no version 99; the status command lists its versions\n$/],
    ] as const) {
      const wrong = await cli(['rollback', '--to-version', target], env(goodSchema), {
        kubeConfig: () => trainer.kubeConfig(),
      });
      expect(wrong.code, target).toBe(ExitCode.USAGE);
      expect(wrong.stderr).toMatch(said);
      expect(wrong.logs.filter((l) => l.level === 'error')).toEqual([]);
    }
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(templateVersion()).toBe('1');

    // Back to the newer version: a roll forward, said as such, rolled out; the version it replaced is superseded.
    const forward = await cli(['rollback', '--to-version', '5'], env(goodSchema), {
      kubeConfig: () => trainer.kubeConfig(),
    });
    expect(forward.code).toBe(ExitCode.OK);
    expect(forward.logs.at(-1)).toMatchObject({ outcome: 'ROLLED_FORWARD', from: '1', to: '5', direction: 'forward' });
    await expectChampion('5');
    await expectPromotion('5', 'promoted', 'roll forward from v1');
    await expectPromotion('1', 'superseded', 'roll forward to v5');
  });
});
