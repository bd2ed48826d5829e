import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPredict } from './api-requests.js';
import { makeArtifact } from './fixtures.js';
import { cleanup, publishArtifact, publishVersion, testClient, trackingUri, uniqueName } from './mlflow-fixtures.js';
import { killedAfterEach, PROCESS_TEST_TIMEOUT_MS, serveModel } from './server-process.js';
import { createTcpProxy, freePort } from './tcp-proxy.js';

const client = testClient();
const name = uniqueName('startup');
const corrupt = uniqueName('startup-corrupt');
const v1 = makeArtifact(21);
const v2 = makeArtifact(22);
let version1 = '';
let version2 = '';
const servers = killedAfterEach();

beforeAll(async () => {
  version1 = await publishArtifact(client, name, v1, 'champion');
  version2 = await publishArtifact(client, name, v2);
  const text = v1.bytes.toString('utf8').replace('"bias":', '"bias":1+');
  await publishVersion(client, corrupt, Buffer.from(text.replace('1+', '')).subarray(0, 500), { alias: 'champion' });
});
afterAll(async () => {
  await cleanup(client, name);
  await cleanup(client, corrupt);
});

async function predictVersion(url: string): Promise<string> {
  const res = await postPredict(url, JSON.stringify({ impressions: [{ ad_id: 'a' }] }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { version: string }).version;
}

describe('the real server process at start-up', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('MLflow down at start: live but not ready, then ready once MLflow is back; the alias moving later changes nothing', async () => {
    const target = new URL(trackingUri());
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port) });
    try {
      const server = await serveModel(name, {
        MLFLOW_TRACKING_URI: `http://127.0.0.1:${proxy.port}`,
        STARTUP_DEADLINE_SECONDS: '60',
      });
      servers.push(server);
      await server.waitForStatus('/healthz', (s) => s === 200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
      await server.waitForLog((l) => l.msg.includes('retrying'));
      expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

      await proxy.start();
      await server.waitForStatus('/readyz', (s) => s === 200);
      expect(await predictVersion(server.url)).toBe(version1);
      const before = (await (await fetch(`${server.url}/model`)).json()) as { version: string; loadedAt: string };

      await client.setAlias(name, 'champion', version2);
      expect((await client.getModelVersionByAlias(name, 'champion')).version).toBe(version2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < 5; i++) expect(await predictVersion(server.url)).toBe(version1);
      const after = (await (await fetch(`${server.url}/model`)).json()) as { version: string; loadedAt: string };
      expect(after).toMatchObject({ version: version1, loadedAt: before.loadedAt });
      expect(server.logs.filter((l) => l.msg.includes('fetched and verified'))).toHaveLength(1);
    } finally {
      await client.setAlias(name, 'champion', version1);
      await proxy.stop();
    }
  });

  it('a pinned MODEL_VERSION is served whatever the alias says', async () => {
    const server = await serveModel(name, {
      MODEL_VERSION: version2,
    });
    servers.push(server);
    await server.waitForStatus('/readyz', (s) => s === 200);
    expect(await predictVersion(server.url)).toBe(version2);
  });

  it('a corrupt champion artifact is refused: clear error, exit non-zero, never ready', async () => {
    const server = await serveModel(corrupt);
    servers.push(server);
    const fatal = await server.waitForLog((l) => l.level === 'fatal');
    expect(fatal.code).toBe('INFERENCE_ARTIFACT_REJECTED');
    expect(fatal.err?.message).toMatch(/refusing to serve version 1/);
    expect(await server.exited).toBe(1);
    expect(server.logs.some((l) => l.msg.includes('ready') && l.msg.includes('model loaded'))).toBe(false);
  });

  it('MLflow unreachable past STARTUP_DEADLINE_SECONDS: exits 1 so Kubernetes restarts the pod', async () => {
    const server = await serveModel(name, {
      MLFLOW_TRACKING_URI: `http://127.0.0.1:${await freePort()}`,
      STARTUP_DEADLINE_SECONDS: '2',
    });
    servers.push(server);
    const fatal = await server.waitForLog((l) => l.level === 'fatal');
    expect(fatal.code).toBe('INFERENCE_MODEL_LOAD_DEADLINE');
    expect(await server.exited).toBe(1);
    // Counted from the primary's first line, not from spawning: starting a process at load 20 is slow.
    const first = server.logs.find((l) => l.msg.includes('primary started workers'));
    expect(Date.parse(String(fatal.time)) - Date.parse(String(first?.time))).toBeLessThan(2_000 + 10_000);
  });
});
