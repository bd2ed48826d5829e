import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPredict } from './api-requests.js';
import { makeArtifact } from './fixtures.js';
import { cleanup, publishArtifact, testClient, uniqueName } from './mlflow-fixtures.js';
import { killedAfterEach, metricSum, PROCESS_TEST_TIMEOUT_MS, serveModel } from './server-process.js';

const client = testClient();
const name = uniqueName('shadow');
const champion = makeArtifact(31);
const challenger = makeArtifact(32);
let championVersion = '';
let challengerVersion = '';
const servers = killedAfterEach();

beforeAll(async () => {
  championVersion = await publishArtifact(client, name, champion, 'champion');
  challengerVersion = await publishArtifact(client, name, challenger, 'challenger');
});
afterAll(() => cleanup(client, name));

async function predict(url: string, n: number): Promise<{ version: string; predictions: { ctr: number }[] }> {
  const impressions = Array.from({ length: n }, (_, i) => ({ id: `i-${i}`, ad_id: `ad-${i}` }));
  const res = await postPredict(url, JSON.stringify({ impressions }));
  expect(res.status).toBe(200);
  return (await res.json()) as { version: string; predictions: { ctr: number }[] };
}

describe('the real server with SHADOW_ALIAS', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('loads the challenger after the champion, answers with the champion only and counts shadow scorings', async () => {
    const server = await serveModel(name, {
      SHADOW_ALIAS: 'challenger',
      SHADOW_SHARE: '1',
    });
    servers.push(server);
    await server.waitForLog((l) => l.msg.startsWith('challenger loaded'));
    await server.waitForStatus('/readyz', (s) => s === 200);
    for (let i = 0; i < 3; i++) expect((await predict(server.url, 4)).version).toBe(championVersion);
    // Scored after each answer: wait for the counters rather than for time.
    const deadline = Date.now() + 60_000;
    while ((await metricSum(server.url, 'fallback_ctr_inference_shadow_predictions_total')) < 12) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    expect(await metricSum(server.url, 'fallback_ctr_inference_shadow_requests_total')).toBe(3);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain(`model_version="${challengerVersion}",resolved_from="alias:challenger"} 1`);
  });

  it('a SHADOW_ALIAS no version has does not delay readiness: the champion is served alone, shadow off', async () => {
    const server = await serveModel(name, {
      SHADOW_ALIAS: 'no-such-alias',
      STARTUP_DEADLINE_SECONDS: '60',
    });
    servers.push(server);
    const warning = await server.waitForLog((l) => l.msg.includes('shadow scoring off'));
    expect(warning.code).toBe('INFERENCE_MODEL_NOT_FOUND');
    await server.waitForStatus('/readyz', (s) => s === 200);
    expect((await predict(server.url, 2)).version).toBe(championVersion);
    expect(await metricSum(server.url, 'fallback_ctr_inference_shadow_requests_total')).toBe(0);
    expect(await metricSum(server.url, 'fallback_ctr_inference_shadow_model_info')).toBe(0);
  });
});
