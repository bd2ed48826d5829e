import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUpVariable } from '../../../test/support/set-up-env.js';
import { createMlflowClient, type Experiment } from '../src/index.js';
import { sharedTrackingUri, uniqueName } from './support/names.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./fixtures/read_with_mlflow.py', import.meta.url));
const client = createMlflowClient({ trackingUri: sharedTrackingUri() });
const modelName = uniqueName('cross');
let experiment: Experiment;

beforeAll(async () => {
  experiment = await client.getOrCreateExperiment(uniqueName('cross'));
});

afterAll(async () => {
  await client.deleteRegisteredModel(modelName).catch(() => undefined);
  await client.deleteExperiment(experiment.experimentId);
});

describe("MLflow's Python client reads what this client wrote", () => {
  it('sees the metrics, params, tags, the version by alias and the artifact bytes', async () => {
    const python = setUpVariable('FALLBACK_CTR_PYTHON');
    const created = await client.createRun({ experimentId: experiment.experimentId, runName: 'cross' });
    const runId = created.info.runId;
    await client.logBatch(runId, {
      metrics: [
        ...[0.9, 0.7, 0.55].map((value, step) => ({ key: 'loss', value, step, timestamp: 1_700_000_000_000 + step })),
        { key: 'holdout.auc', value: 0.7123456789 },
      ],
      params: { learning_rate: 0.05, hash_bits: 20, features: 'slot_id,ad_id' },
      tags: { 'gate.outcome': 'PASS' },
    });
    const bytes = randomBytes(200_000);
    await client.uploadArtifact(created.info.artifactUri, 'model/model.bin', bytes);
    await client.finishRun(runId, 'FINISHED');
    await client.getOrCreateRegisteredModel(modelName);
    const version = await client.createModelVersion({
      name: modelName,
      source: `${created.info.artifactUri}/model`,
      runId,
      tags: { 'artifact.sha256': createHash('sha256').update(bytes).digest('hex') },
    });
    await client.setAlias(modelName, 'champion', version.version);

    const { stdout } = await run(python, [script, runId, modelName, 'champion', 'model.bin'], {
      env: { ...process.env, MLFLOW_TRACKING_URI: sharedTrackingUri() },
      timeout: 280_000,
    });
    const read = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(read.status).toBe('FINISHED');
    expect(read.metrics).toEqual({ loss: 0.55, 'holdout.auc': 0.7123456789 });
    expect(read.loss_history).toEqual([
      [0, 0.9],
      [1, 0.7],
      [2, 0.55],
    ]);
    expect(read.params).toEqual({ learning_rate: '0.05', hash_bits: '20', features: 'slot_id,ad_id' });
    expect(read.tags).toMatchObject({ 'gate.outcome': 'PASS' });
    expect(read.version).toBe(version.version);
    expect(read.version_run_id).toBe(runId);
    expect(read.aliases).toEqual(['champion']);
    expect((read.version_tags as Record<string, string>)['artifact.sha256']).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    expect(read.artifact_sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    await client.deleteArtifacts(created.info.artifactUri);
  });
});
