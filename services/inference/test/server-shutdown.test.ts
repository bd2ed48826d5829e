import { silentLogger } from '@fallback-ctr/runtime';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/wait-until.js';
import { startHttpServer } from '../src/http-server.js';
import { postPredict } from './api-requests.js';
import { loadedHolder, makeArtifact } from './fixtures.js';
import { cleanup, publishVersion, testClient, trackingUri, uniqueName } from './mlflow-fixtures.js';
import { startPinnedClients } from './pinned-connections.js';
import { killedAfterEach, PROCESS_TEST_TIMEOUT_MS, serveModel, spawnServer } from './server-process.js';
import { freePort } from './tcp-proxy.js';

const client = testClient();
const name = uniqueName('shutdown');
const servers = killedAfterEach();
const body = JSON.stringify({
  impressions: [{ id: 'a', ad_id: 'ad-1', slot_id: 's', context: { hour_of_day: 3, page_views: 2 } }],
});

beforeAll(async () => {
  await publishVersion(client, name, makeArtifact(31).bytes, { alias: 'champion' });
});
afterAll(() => cleanup(client, name));

const replicaConfig = {
  host: '127.0.0.1',
  maxBatchSize: 100,
  bodyLimitBytes: 65_536,
  requestTimeoutMs: 10_000,
  apiTokens: [],
  drainMs: 0,
  graceMs: 5_000,
};

const DRAIN_SECONDS = 1;

describe('the real server process under load', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  // Two retries: in 2 of 5 CI rehearsals (2026-12-01) one request of thousands errored although the
  // balancer saw the 503 within 66 ms. autocannon does not honour `Connection: close`: it writes its
  // next request on the connection as soon as a response ends (httpClient.js) and counts an error when
  // the server's reset of that closing connection beats its FIN. A server that drops requests at
  // SIGTERM (the bug this test is for) fails every attempt.
  it('SIGTERM during a load run: readiness turns 503, every request sent is answered 2xx, exit 0 within the grace period', {
    retry: 2,
  }, async () => {
    const server = await serveModel(name, {
      WORKERS: '2',
      SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
      SHUTDOWN_GRACE_SECONDS: '5',
    });
    servers.push(server);
    await server.waitForStatus('/readyz', (s) => s === 200);
    await server.waitForLog((l) => l.msg === 'model loaded: ready' && l.worker === 2);

    let instance: autocannon.Instance | undefined;
    const load = new Promise<autocannon.Result>((resolve, reject) => {
      instance = autocannon(
        {
          url: `${server.url}/predict`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          connections: 8,
          // Stopped by the balancer below; the duration only bounds a run that goes wrong.
          duration: 300,
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
    let answered = 0;
    instance?.on('response', () => {
      answered++;
    });
    // A load balancer: stops routing to the pod once /readyz says 503 (it polls every 100 ms).
    let sawNotReady = false;
    let signalled = Number.NaN;
    let notReadyAfterMs = Number.NaN;
    const balancer = (async () => {
      for (;;) {
        const status = await fetch(`${server.url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 503) {
          sawNotReady = true;
          notReadyAfterMs = Date.now() - signalled;
          instance?.stop();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await waitUntil(() => answered >= 300, 'load to be under way');
    signalled = Date.now();
    server.kill('SIGTERM');
    const [result] = await Promise.all([load, balancer]);
    const code = await server.exited;
    const exitMs = Date.now() - signalled;

    expect(sawNotReady).toBe(true);
    expect(result.requests.total).toBeGreaterThan(100);
    expect(
      result.errors,
      `the balancer saw the 503 ${notReadyAfterMs} ms after SIGTERM (drain ${DRAIN_SECONDS} s)`,
    ).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(result.non2xx, server.logs.map((l) => JSON.stringify(l)).join('\n')).toBe(0);
    expect(result['2xx']).toBeGreaterThan(100);
    expect(code).toBe(0);
    // Within drain + grace + the primary's 2 s margin, plus room for a loaded machine's scheduling.
    expect(exitMs).toBeLessThan(DRAIN_SECONDS * 1_000 + 5_000 + 2_000 + 10_000);
    expect(server.logs.filter((l) => l.msg === 'shutting down' && l.role === 'worker')).toHaveLength(2);
  });

  // One retry: in 1 of 5 whole-suite runs (never in 18 runs of this file alone, 10 of them beside two busy
  // loops) one request on a NEW connection was reset, cause not found yet; the failure now names the
  // port and whether the socket was reused. The bug this test is for (every keep-alive connection loses
  // a request on every SIGTERM) fails both attempts.
  it('SIGTERM with keep-alive connections pinned to the pod, as behind kube-proxy: no request is lost', {
    retry: 1,
  }, async () => {
    const port = await freePort();
    const server = spawnServer(port, {
      MLFLOW_TRACKING_URI: trackingUri(),
      MODEL_NAME: name,
      WORKERS: '2',
      // Long enough for every connection to see one answer during the drain, even at load 20.
      SHUTDOWN_DRAIN_SECONDS: '4',
      SHUTDOWN_GRACE_SECONDS: '10',
    });
    servers.push(server);
    // The other ready replica of the Service: new connections go there once this pod is not ready.
    const replica = await startHttpServer({
      config: { ...replicaConfig, port: 0 },
      holder: loadedHolder(),
      logger: silentLogger(),
    });
    try {
      await server.waitForStatus('/readyz', (s) => s === 200);
      await server.waitForLog((l) => l.msg === 'model loaded: ready' && l.worker === 2);
      let endpoint = port;
      const clients = startPinnedClients({ connections: 20, body, endpoint: () => endpoint });
      await waitUntil(() => (clients.tally.ok.get('1') ?? 0) >= 200, 'warm-up traffic');
      server.kill('SIGTERM');
      // kube-proxy: the pod leaves the Service's endpoints once it is not ready.
      await waitUntil(
        () =>
          fetch(`${server.url}/readyz`, { headers: { connection: 'close' } }).then(
            (r) => r.status === 503,
            () => true,
          ),
        'readiness to turn 503',
      );
      endpoint = Number(new URL(replica.url).port);
      const code = await server.exited;
      const replicaBefore = clients.tally.ok.get('7') ?? 0;
      await waitUntil(() => (clients.tally.ok.get('7') ?? 0) >= replicaBefore + 100, 'traffic on the replica');
      const tally = await clients.stop();

      expect(code, JSON.stringify(server.logs.filter((l) => l.level !== 'info' || l.msg.includes('stop')))).toBe(0);
      // A request reset on a connection that sat idle through the whole drain is sent again, as a
      // keep-alive client does (pinned-connections.ts); every other loss fails here. That the drain
      // did close connections is checked below: a server that kept them alive (the bug this test
      // is for) answers no `Connection: close` at all.
      expect(
        tally.failed,
        `resent after an idle close: ${tally.resentAfterIdleClose}; the pod's port ${port}, the replica's ${endpoint}`,
      ).toEqual([]);
      expect(
        tally.non2xx,
        `${tally.non2xxSamples.join('\n')}\n${server.logs.map((l) => JSON.stringify(l)).join('\n')}`,
      ).toBe(0);
      expect(tally.closing).toBeGreaterThanOrEqual(20);
      expect(tally.ok.get('1')).toBeGreaterThan(200);
      expect(tally.ok.get('7')).toBeGreaterThan(100);
    } finally {
      await replica.drain({ skipDrainDelay: true });
    }
  });

  it('a worker that dies is respawned and gets the model without a second download', async () => {
    const server = await serveModel(name, {
      WORKERS: '2',
    });
    servers.push(server);
    await server.waitForLog((l) => l.msg === 'model loaded: ready' && l.worker === 1);
    const second = await server.waitForLog((l) => l.msg === 'model loaded: ready' && l.worker === 2);
    process.kill(second.pid, 'SIGKILL');
    const respawned = await server.waitForLog((l) => l.msg === 'model loaded: ready' && l.worker === 3);
    expect(respawned.pid).not.toBe(second.pid);
    expect(respawned.version).toBe('1');
    expect(server.logs.some((l) => l.msg.includes('worker died; respawning'))).toBe(true);
    expect(server.logs.filter((l) => l.msg.includes('fetched and verified'))).toHaveLength(1);
    const res = await postPredict(server.url, body);
    expect(res.status).toBe(200);
    // Pod-wide metrics: the primary aggregates every worker's registry.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/fallback_ctr_inference_model_info\{model_name="[^"]+",model_version="1"/);
  });
});
