import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CREATE_REQUEST_TAG,
  createMlflowClient,
  type Experiment,
  type MlflowError,
  MlflowErrorCode,
  type Run,
} from '../src/index.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { sharedTrackingUri, uniqueName } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

const client = createMlflowClient({ trackingUri: sharedTrackingUri() });
const modelName = uniqueName('model');
const models = new Set<string>([modelName]);
let experiment: Experiment;
let run: Run;
const artifact = Buffer.from('{"format":"fallback-ctr-test"}');

beforeAll(async () => {
  experiment = await client.getOrCreateExperiment(uniqueName('registry'));
  run = await client.createRun({ experimentId: experiment.experimentId });
  await client.uploadArtifact(run.info.artifactUri, 'model/model.json', artifact);
});

afterAll(async () => {
  for (const name of models) await client.deleteRegisteredModel(name).catch(() => undefined);
  await client.deleteArtifacts(run.info.artifactUri);
  await client.deleteExperiment(experiment.experimentId);
});

function createVersion(tags: Record<string, string> = {}) {
  return client.createModelVersion({
    name: modelName,
    source: `${run.info.artifactUri}/model`,
    runId: run.info.runId,
    tags,
  });
}

describe('registry', () => {
  it('get-or-create of a registered model is safe under a race', async () => {
    const clients = Array.from({ length: 5 }, () => createMlflowClient({ trackingUri: sharedTrackingUri() }));
    const results = await Promise.all(
      clients.map((c) => c.getOrCreateRegisteredModel(modelName, { description: 'd' })),
    );
    expect(new Set(results.map((m) => m.name))).toEqual(new Set([modelName]));
    expect((await client.getRegisteredModel(modelName)).description).toBe('d');
  });

  it('creates, reads, tags, searches with pagination and downloads versions', async () => {
    const v1 = await createVersion({ 'gate.outcome': 'PASS', 'holdout.auc': '0.71' });
    const v2 = await createVersion({ 'gate.outcome': 'FAIL' });
    const v3 = await createVersion();
    expect([v1.version, v2.version, v3.version]).toEqual(['1', '2', '3']);
    expect(v1.status).toBe('READY');
    expect(v1.source).toBe(`${run.info.artifactUri}/model`);
    expect(v1.runId).toBe(run.info.runId);

    await client.setModelVersionTag(modelName, 2, 'gate.reasons', 'auc below champion');
    const read = await client.getModelVersion(modelName, '2');
    expect(read.tags).toMatchObject({ 'gate.outcome': 'FAIL', 'gate.reasons': 'auc below champion' });

    const first = await client.searchModelVersions({ name: modelName, maxResults: 2, orderBy: ['version_number ASC'] });
    expect(first.modelVersions.map((v) => v.version)).toEqual(['1', '2']);
    expect(first.nextPageToken).toBeDefined();
    const second = await client.searchModelVersions({
      name: modelName,
      maxResults: 2,
      orderBy: ['version_number ASC'],
      pageToken: first.nextPageToken as string,
    });
    expect(second.modelVersions.map((v) => v.version)).toEqual(['3']);
    expect(second.nextPageToken).toBeUndefined();
    const all = await client.searchAllModelVersions({ name: modelName, maxResults: 1 });
    expect(all.map((v) => v.version).sort()).toEqual(['1', '2', '3']);
    const passed = await client.searchAllModelVersions({ name: modelName, filter: "tags.`gate.outcome` = 'PASS'" });
    expect(passed.map((v) => v.version)).toEqual(['1']);

    expect((await client.downloadModelVersionArtifact(modelName, 3, 'model.json')).equals(artifact)).toBe(true);
    expect(await client.getModelVersionDownloadUri(modelName, '1')).toBe(`${run.info.artifactUri}/model`);
  });

  it('moves an alias between versions, reads it back and deletes it', async () => {
    await client.setAlias(modelName, 'champion', 1);
    expect((await client.getModelVersionByAlias(modelName, 'champion')).version).toBe('1');
    await client.setAlias(modelName, 'champion', '2');
    await client.setAlias(modelName, 'previous-champion', '1');
    const champion = await client.getModelVersionByAlias(modelName, 'champion');
    expect(champion.version).toBe('2');
    expect(champion.aliases).toEqual(['champion']);
    expect((await client.getModelVersion(modelName, 1)).aliases).toEqual(['previous-champion']);
    expect((await client.getRegisteredModel(modelName)).aliases).toEqual({ champion: '2', 'previous-champion': '1' });

    await client.deleteAlias(modelName, 'previous-champion');
    const gone = await mlflowRejection(client.getModelVersionByAlias(modelName, 'previous-champion'));
    expect(gone.isNotFound).toBe(true);
    expect(gone.code).toBe(MlflowErrorCode.ALIAS_NOT_FOUND);
    expect(gone.message).toContain('previous-champion');

    for (const bad of ['latest', 'v3', 'has space', '']) {
      expect((await mlflowRejection(client.setAlias(modelName, bad, 1))).code).toBe(MlflowErrorCode.INVALID_ARGUMENT);
    }
  });

  it('maps a missing model to RESOURCE_DOES_NOT_EXIST', async () => {
    const missing = uniqueName('missing');
    for (const call of [
      () => client.getRegisteredModel(missing),
      () => client.getModelVersion(missing, 1),
      () => client.getModelVersionByAlias(missing, 'champion'),
      () => client.downloadModelVersionArtifact(missing, 1, 'model.json'),
    ]) {
      const error = await mlflowRejection(call());
      expect(error.code).toBe(MlflowErrorCode.API);
      expect(error.mlflowErrorCode).toBe('RESOURCE_DOES_NOT_EXIST');
      expect(error.status).toBe(404);
      expect((error as MlflowError).message).toContain(missing);
    }
  });

  it('rejects a source outside the run with the server error', async () => {
    const error = await client
      .createModelVersion({ name: modelName, source: 'mlflow-artifacts:/elsewhere/model', runId: run.info.runId })
      .catch((e: unknown) => e);
    expect((error as MlflowError).mlflowErrorCode).toBe('INVALID_PARAMETER_VALUE');
    expect((error as MlflowError).path).toBe('/api/2.0/mlflow/model-versions/create');
  });
});

describe('creates that lose their answer', () => {
  it('do not create a duplicate model version or run when retried', async () => {
    const cut = new Set<string>();
    const proxy = await startFaultProxy(sharedTrackingUri(), (method, path) => {
      if (method === 'POST' && /\/(model-versions|runs)\/create$/.test(path) && !cut.has(path)) {
        cut.add(path);
        return { kind: 'drop-response' };
      }
      return { kind: 'pass' };
    });
    try {
      const flaky = createMlflowClient({ trackingUri: proxy.url, retry: { initialDelayMs: 10 } });
      const version = await flaky.createModelVersion({
        name: modelName,
        source: `${run.info.artifactUri}/model`,
        runId: run.info.runId,
      });
      const runsBefore = await countRuns();
      const newRun = await flaky.createRun({ experimentId: experiment.experimentId, runName: 'once' });
      expect(proxy.seen.filter((s) => s.endsWith('/model-versions/create'))).toHaveLength(1);
      expect(proxy.seen.filter((s) => s.endsWith('/runs/create'))).toHaveLength(1);
      expect(await countRuns()).toBe(runsBefore + 1);
      expect(newRun.info.runName).toBe('once');
      const versions = await client.searchAllModelVersions({ name: modelName });
      expect(versions.filter((v) => v.tags[CREATE_REQUEST_TAG] === version.tags[CREATE_REQUEST_TAG])).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('waits while a version is pending and fails clearly on FAILED_REGISTRATION', async () => {
    let gets = 0;
    let stuck = false;
    const status = (body: unknown, value: string) => {
      (body as { model_version: { status: string } }).model_version.status = value;
      return body;
    };
    const proxy = await startFaultProxy(sharedTrackingUri(), (_method, path) => {
      if (path.endsWith('/model-versions/create'))
        return { kind: 'rewrite', rewrite: (b) => status(b, 'PENDING_REGISTRATION') };
      if (path.endsWith('/model-versions/get')) {
        gets++;
        const value = stuck || gets < 3 ? 'PENDING_REGISTRATION' : gets === 3 ? 'READY' : 'FAILED_REGISTRATION';
        return { kind: 'rewrite', rewrite: (b) => status(b, value) };
      }
      return { kind: 'pass' };
    });
    try {
      const viaProxy = createMlflowClient({ trackingUri: proxy.url });
      const waited = await viaProxy.createModelVersion({
        name: modelName,
        source: `${run.info.artifactUri}/model`,
        runId: run.info.runId,
      });
      expect(waited.status).toBe('READY');
      expect(gets).toBe(3);
      const failed = await viaProxy
        .createModelVersion({ name: modelName, source: `${run.info.artifactUri}/model`, runId: run.info.runId })
        .catch((e: unknown) => e);
      expect((failed as MlflowError).code).toBe(MlflowErrorCode.REGISTRATION_FAILED);
      expect((failed as MlflowError).message).toMatch(/failed to register/);
      stuck = true;
      const timeout = await viaProxy
        .createModelVersion({
          name: modelName,
          source: `${run.info.artifactUri}/model`,
          runId: run.info.runId,
          registrationTimeoutMs: 300,
        })
        .catch((e: unknown) => e);
      expect((timeout as MlflowError).code).toBe(MlflowErrorCode.REGISTRATION_TIMEOUT);
    } finally {
      await proxy.close();
    }
  });
});

async function countRuns(): Promise<number> {
  const res = await fetch(`${sharedTrackingUri()}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [experiment.experimentId], max_results: 1000 }),
  });
  const body = (await res.json()) as { runs?: unknown[] };
  return body.runs?.length ?? 0;
}
