import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMlflowClient, type Experiment, type MlflowError, MlflowErrorCode } from '../src/index.js';
import { sharedTrackingUri, uniqueName } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

const client = createMlflowClient({ trackingUri: sharedTrackingUri() });
let experiment: Experiment;
const experimentIds = new Set<string>();

beforeAll(async () => {
  experiment = await client.getOrCreateExperiment(uniqueName('tracking'));
  experimentIds.add(experiment.experimentId);
});

afterAll(async () => {
  for (const id of experimentIds) await client.deleteExperiment(id);
});

describe('experiments', () => {
  it('get-or-create returns the same experiment to racing callers', async () => {
    const name = uniqueName('race');
    // Separate clients: separate connections, as separate processes would have.
    const clients = Array.from({ length: 6 }, () => createMlflowClient({ trackingUri: sharedTrackingUri() }));
    const results = await Promise.all(clients.map((c) => c.getOrCreateExperiment(name, { tags: { owner: 'test' } })));
    for (const r of results) experimentIds.add(r.experimentId);
    expect(new Set(results.map((r) => r.experimentId)).size).toBe(1);
    expect(results[0]?.name).toBe(name);
    expect(results[0]?.artifactLocation).toMatch(/^mlflow-artifacts:\//);
    expect(await client.getExperimentByName(`${name}-missing`)).toBeUndefined();
  });
});

describe('runs', () => {
  it('creates, reads and finishes runs with every terminal status', async () => {
    for (const status of ['FINISHED', 'FAILED', 'KILLED'] as const) {
      const run = await client.createRun({
        experimentId: experiment.experimentId,
        runName: `run-${status}`,
        startTime: 1_700_000_000_000,
        tags: { purpose: 'test' },
      });
      expect(run.info.status).toBe('RUNNING');
      expect(run.info.runName).toBe(`run-${status}`);
      expect(run.info.startTime).toBe(1_700_000_000_000);
      expect(run.info.artifactUri).toBe(`mlflow-artifacts:/${experiment.experimentId}/${run.info.runId}/artifacts`);
      const info = await client.finishRun(run.info.runId, status, 1_700_000_005_000);
      expect(info.status).toBe(status);
      const read = await client.getRun(run.info.runId);
      expect(read.info.status).toBe(status);
      expect(read.info.endTime).toBe(1_700_000_005_000);
      expect(read.data.tags.purpose).toBe('test');
    }
  });

  it('searches runs by status and tag across pages', async () => {
    const searched = await client.getOrCreateExperiment(uniqueName('search'));
    experimentIds.add(searched.experimentId);
    const runs = [];
    for (let i = 0; i < 5; i++) {
      runs.push(
        await client.createRun({ experimentId: searched.experimentId, tags: { 'fctr.kind': i < 3 ? 'a' : 'b' } }),
      );
    }
    await client.finishRun(runs[0]!.info.runId, 'FAILED');
    const found = await client.searchAllRuns({
      experimentIds: [searched.experimentId],
      filter: "attributes.status = 'RUNNING' AND tags.`fctr.kind` = 'a'",
      maxResults: 1,
    });
    expect(found.map((r) => r.info.runId).sort()).toEqual([runs[1]!.info.runId, runs[2]!.info.runId].sort());
    expect(await client.searchAllRuns({ experimentIds: [searched.experimentId] })).toHaveLength(5);
  });

  it('logs 2,500 metrics, 250 params and 250 tags completely', async () => {
    const run = await client.createRun({ experimentId: experiment.experimentId });
    const runId = run.info.runId;
    const metrics = Array.from({ length: 2_500 }, (_, i) => ({ key: `metric_${i}`, value: i / 7, step: i % 5 }));
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`param_${i}`, `value-${i}`]));
    const tags = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`tag.${i}`, 'x'.repeat(i * 30)]));
    await client.logBatch(runId, { metrics, params, tags });
    const read = await client.getRun(runId);
    expect(Object.keys(read.data.metrics)).toHaveLength(2_500);
    expect(read.data.metrics.metric_2499).toBeCloseTo(2_499 / 7, 12);
    expect(read.data.params).toEqual(params);
    for (const [key, value] of Object.entries(tags)) expect(read.data.tags[key]).toBe(value);
    // Logging the same batch again (what a retry does) is accepted and changes nothing.
    await client.logParams(runId, { param_0: 'value-0' });
    expect((await client.getRun(runId)).data.params.param_0).toBe('value-0');
  });

  it('logs conveniences and reports server-side rejections as typed errors', async () => {
    const run = await client.createRun({ experimentId: experiment.experimentId });
    const runId = run.info.runId;
    await client.logMetrics(runId, { auc: 0.71, logloss: 0.42 }, { step: 3 });
    await client.logParams(runId, { lr: 0.05, l2: 1e-6, ftrl: true });
    await client.setTags(runId, { 'gate.outcome': 'PASS' });
    const read = await client.getRun(runId);
    expect(read.data.metrics).toEqual({ auc: 0.71, logloss: 0.42 });
    expect(read.data.params).toEqual({ lr: '0.05', l2: '0.000001', ftrl: 'true' });
    expect(read.data.tags['gate.outcome']).toBe('PASS');

    const changed = await mlflowRejection(client.logParams(runId, { lr: 0.1 }));
    expect(changed.mlflowErrorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(changed.path).toBe('/api/2.0/mlflow/runs/log-batch');

    const tooLong = await client.logParams(runId, { blob: 'x'.repeat(6_001) }).catch((e: unknown) => e);
    expect((tooLong as MlflowError).code).toBe(MlflowErrorCode.VALUE_TOO_LONG);
    expect((await client.getRun(runId)).data.params.blob).toBeUndefined();

    const missing = await client.getRun('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
    expect((missing as MlflowError).mlflowErrorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((missing as MlflowError).isNotFound).toBe(true);
  });
});

describe('a long-lived caller signal', () => {
  it('is not left holding a listener per request', async () => {
    const controller = new AbortController();
    const added = vi.spyOn(controller.signal, 'addEventListener');
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const withSignal = createMlflowClient({
      trackingUri: sharedTrackingUri(),
      retryHooks: { signal: controller.signal },
    });
    const run = await withSignal.createRun({ experimentId: experiment.experimentId });
    await withSignal.uploadArtifact(run.info.artifactUri, 'a.txt', Buffer.from('a'));
    await withSignal.downloadArtifact(run.info.artifactUri, 'a.txt');
    const stream = await withSignal.openArtifactStream(run.info.artifactUri, 'a.txt');
    for await (const _ of stream) {
      // drain
    }
    await withSignal.getRun('0123456789abcdef0123456789abcdef').catch(() => undefined);
    const adds = added.mock.calls.filter(([type]) => type === 'abort').length;
    expect(adds).toBeGreaterThanOrEqual(5);
    expect(removed.mock.calls.filter(([type]) => type === 'abort').length).toBe(adds);
    await withSignal.deleteArtifacts(run.info.artifactUri);
  });
});
