import { request } from 'node:http';
import { connect } from 'node:net';
import { silentLogger } from '@fallback-ctr/runtime';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/wait-until.js';
import { type HttpServerConfig, startHttpServer } from '../src/http-server.js';
import { postPredict } from './api-requests.js';
import { loadedHolder } from './fixtures.js';

const config: HttpServerConfig = {
  host: '127.0.0.1',
  port: 0,
  maxBatchSize: 10,
  bodyLimitBytes: 65_536,
  requestTimeoutMs: 10_000,
  apiTokens: [],
  drainMs: 300,
  graceMs: 1_500,
};
const body = JSON.stringify({ impressions: [{ id: 'slow', ad_id: 'a' }] });

/** A POST whose body arrives in two parts: in flight until `finish()` sends the rest. */
function slowPredict(url: string) {
  const { hostname, port } = new URL(url);
  let onResponse: (value: { status: number; body: string }) => void = () => undefined;
  let onError: (error: Error) => void = () => undefined;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    onResponse = resolve;
    onError = reject;
  });
  const req = request(
    {
      hostname,
      port,
      path: '/predict',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => onResponse({ status: res.statusCode ?? 0, body: text }));
    },
  );
  req.on('error', (error) => onError(error));
  const connected = new Promise<void>((resolve) =>
    req.once('socket', (socket) => (socket.connecting ? socket.once('connect', () => resolve()) : resolve())),
  );
  req.write(body.slice(0, 10));
  return { response, connected, finish: () => req.end(body.slice(10)), abort: () => req.destroy() };
}

describe('graceful drain of the HTTP server', () => {
  it('readiness turns 503 at once, requests are still served during the drain (closing their connection), in-flight ones finish after the listener closes', async () => {
    const holder = loadedHolder();
    // A drain long enough for the requests below even on a machine at load 20.
    const server = await startHttpServer({ config: { ...config, drainMs: 3_000 }, holder, logger: silentLogger() });
    const inFlight = slowPredict(server.url);
    await inFlight.connected;

    const draining = server.drain();
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('connection')).toBe('close');
    const during = await postPredict(server.url, body);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');

    // After the drain delay the listener is closed: new connections are refused ...
    await waitUntil(
      () =>
        fetch(`${server.url}/healthz`, { headers: { connection: 'close' } }).then(
          () => false,
          () => true,
        ),
      'the listener to close',
    );
    // ... but the request that was in flight completes.
    inFlight.finish();
    const done = await inFlight.response;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({ predictions: [{ id: 'slow' }] });
    expect(await draining).toBe(true);
  });

  it('gives up on a request that outlives the grace period and reports an unclean stop', async () => {
    const server = await startHttpServer({
      config: { ...config, drainMs: 0, graceMs: 300 },
      holder: loadedHolder(),
      logger: silentLogger(),
    });
    const stuck = slowPredict(server.url);
    await stuck.connected;
    const started = Date.now();
    expect(await server.drain()).toBe(false);
    // Bounded by the grace period (plus room for a busy machine), not by the request that never ends.
    expect(Date.now() - started).toBeLessThan(300 + 5_000);
    stuck.abort();
    await stuck.response.catch(() => undefined);
  });
});

describe('a request body that trickles in', () => {
  it('is cut off with 408 once REQUEST_TIMEOUT_SECONDS has passed, and the server keeps serving', async () => {
    const server = await startHttpServer({
      config: { ...config, requestTimeoutMs: 1_000 },
      holder: loadedHolder(),
      logger: silentLogger(),
    });
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let answer = '';
    let dripped = 0;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', () => undefined);
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // One byte every 200 ms: the whole body would take ~8 s; it never gets there.
    const drip = setInterval(() => {
      if (dripped < body.length - 1 && !socket.destroyed) socket.write(body[dripped++] ?? '');
    }, 200);
    try {
      await closed;
    } finally {
      clearInterval(drip);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(dripped).toBeLessThan(body.length - 1);
    const ok = await postPredict(server.url, body);
    expect(ok.status).toBe(200);
    await server.drain({ skipDrainDelay: true });
  });
});
