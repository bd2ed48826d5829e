import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlflowClient } from '../src/index.js';
import { startTestMlflowServer, type TestMlflowServer } from './support/mlflow-server.js';
import { uniqueName } from './support/names.js';

// A real MLflow server restarted under the client's feet: down for DOWN_MS, then as long again as
// its own start-up takes (tens of seconds on a busy machine), so about a minute in all.
const DOWN_MS = 30_000;

describe('the default retry budget', () => {
  let server: TestMlflowServer;
  beforeAll(async () => {
    server = await startTestMlflowServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('rides out a restart of the server: calls made while it is down complete once it is back', {
    timeout: 300_000,
  }, async () => {
    const client = createMlflowClient({ trackingUri: server.url });
    const experimentName = uniqueName('restart');
    const experiment = await client.getOrCreateExperiment(experimentName);

    await server.kill();
    const down = Date.now();
    // Made while the server is down: a read, an idempotent write and a create.
    const read = client.getExperimentByName(experimentName);
    const run = client.createRun({ experimentId: experiment.experimentId, runName: 'during-restart' });
    const outcome = Promise.allSettled([read, run]);
    await sleep(DOWN_MS);
    await server.start();
    const downForMs = Date.now() - down;

    const [readResult, runResult] = await outcome;
    expect(readResult.status, String((readResult as PromiseRejectedResult).reason)).toBe('fulfilled');
    expect(runResult.status, String((runResult as PromiseRejectedResult).reason)).toBe('fulfilled');
    const created = (runResult as PromiseFulfilledResult<Awaited<typeof run>>).value;
    await client.setTags(created.info.runId, { 'restart.down_ms': String(downForMs) });
    expect((await client.getRun(created.info.runId)).data.tags['restart.down_ms']).toBe(String(downForMs));
    expect(downForMs).toBeGreaterThanOrEqual(DOWN_MS);
  });
});
