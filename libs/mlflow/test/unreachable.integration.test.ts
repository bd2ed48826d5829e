import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMlflowClient, type MlflowError, MlflowErrorCode } from '../src/index.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { sharedTrackingUri, uniqueName } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

const retry = { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 50 };

describe('a server that stops mid-call', () => {
  it('gives up after bounded retries with an error naming the endpoint when the server goes away', async () => {
    let proxyClose: (() => Promise<void>) | undefined;
    const proxy = await startFaultProxy(sharedTrackingUri(), (_method, path) => {
      if (path.endsWith('/registered-models/alias')) {
        // The server dies while handling the call: the connection drops, later connections are refused.
        setImmediate(() => void proxyClose?.());
        return { kind: 'hang' };
      }
      return { kind: 'pass' };
    });
    proxyClose = () => proxy.close();
    const client = createMlflowClient({ trackingUri: proxy.url, retry, timeoutMs: 5_000 });
    const e = await mlflowRejection(client.getModelVersionByAlias(uniqueName('gone'), 'champion'));
    expect(e.code).toBe(MlflowErrorCode.UNREACHABLE);
    expect(e.attempts).toBe(3);
    expect(e.method).toBe('GET');
    expect(e.path).toBe('/api/2.0/mlflow/registered-models/alias');
    expect(e.message).toContain('GET /api/2.0/mlflow/registered-models/alias');
    expect(e.message).toContain(proxy.url);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).toMatch(/gave up after 3 attempts/);
    expect(proxy.seen).toHaveLength(1);
  });

  it('times out each attempt of a server that stops answering', async () => {
    const proxy = await startFaultProxy(sharedTrackingUri(), () => ({ kind: 'hang' }));
    try {
      // Long enough for each request to reach this process's proxy however busy the machine is.
      const client = createMlflowClient({ trackingUri: proxy.url, retry, timeoutMs: 3_000 });
      const error = await client.getRun('0123456789abcdef0123456789abcdef').catch((e: unknown) => e);
      const e = error as MlflowError;
      expect(e.code).toBe(MlflowErrorCode.TIMEOUT);
      expect(e.message).toContain('GET /api/2.0/mlflow/runs/get');
      expect(e.message).toMatch(/did not answer within 3000 ms.*gave up after 3 attempts/);
      expect(proxy.seen).toEqual(Array(3).fill('GET /api/2.0/mlflow/runs/get'));
    } finally {
      await proxy.close();
    }
  });

  it('does not retry a create whose outcome is unknown when it cannot check, and retries refused ones', async () => {
    // Every request is read and its connection cut: no answer, so whether the server acted is unknown.
    const proxy = await startFaultProxy(sharedTrackingUri(), () => ({ kind: 'reset' }));
    try {
      const client = createMlflowClient({ trackingUri: proxy.url, retry });
      const e = await mlflowRejection(client.createRun({ experimentId: '0' }));
      // One create; the follow-up look-ups (runs/search) are cut too, and nothing is created twice.
      expect(proxy.seen.filter((s) => s.endsWith('/runs/create'))).toHaveLength(1);
      expect(proxy.seen.filter((s) => s.endsWith('/runs/search')).length).toBe(3);
      expect(e.path).toBe('/api/2.0/mlflow/runs/create');
      expect(e.message).toMatch(/POST \/api\/2.0\/mlflow\/runs\/create .*unknown.*runs\/search/);
    } finally {
      await proxy.close();
    }
    // Nothing listens any more: connection refused means nothing was created, so the create is retried.
    const refused = createMlflowClient({ trackingUri: proxy.url, retry });
    const e = (await refused.createRun({ experimentId: '0' }).catch((x: unknown) => x)) as MlflowError;
    expect(e.code).toBe(MlflowErrorCode.UNREACHABLE);
    expect(e.attempts).toBe(3);
    expect(e.message).toContain('POST /api/2.0/mlflow/runs/create');
  });

  it('retries a download cut off half-way, then reports the endpoint', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = createMlflowClient({ trackingUri: url, retry });
      const error = await client
        .downloadArtifact('mlflow-artifacts:/1/r/artifacts', 'model/model.json')
        .catch((e: unknown) => e);
      const e = error as MlflowError;
      expect(e.code).toBe(MlflowErrorCode.UNREACHABLE);
      expect(e.message).toContain('GET /api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model/model.json');
      expect(e.attempts).toBe(3);
      expect(requests).toBe(3);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stops at once when the caller aborts', async () => {
    const controller = new AbortController();
    // Aborts once the request is at the server (hanging there), whatever the machine's load.
    const proxy = await startFaultProxy(sharedTrackingUri(), () => {
      setImmediate(() => controller.abort(new Error('shutdown')));
      return { kind: 'hang' };
    });
    try {
      const client = createMlflowClient({
        trackingUri: proxy.url,
        timeoutMs: 60_000,
        retryHooks: { signal: controller.signal },
      });
      const e = (await client.getExperimentByName('x').catch((x: unknown) => x)) as MlflowError;
      expect(e.code).toBe(MlflowErrorCode.ABORTED);
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('a server that is not MLflow', () => {
  it('is reported as a bad response, not a crash', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>welcome to nginx</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = createMlflowClient({ trackingUri: url, retry });
      for (const call of [
        () => client.uploadArtifact('mlflow-artifacts:/1/r/artifacts', 'a.txt', Buffer.from('a')),
        () => client.getRun('0123456789abcdef0123456789abcdef'),
      ]) {
        const e = await mlflowRejection(call());
        expect(e.code).toBe(MlflowErrorCode.BAD_RESPONSE);
        expect(e.message).toContain('welcome to nginx');
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('a rate-limiting gateway', () => {
  it('is retried after the Retry-After it asks for', async () => {
    const seen: number[] = [];
    const server = createServer((_req, res) => {
      seen.push(Date.now());
      if (seen.length === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' });
        res.end('slow down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ experiment: { experiment_id: '7', name: 'x' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = createMlflowClient({
        trackingUri: url,
        retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2_000 },
      });
      const experiment = await client.getExperimentByName('x');
      expect(experiment?.experimentId).toBe('7');
      expect(seen).toHaveLength(2);
      expect((seen[1] as number) - (seen[0] as number)).toBeGreaterThanOrEqual(950);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
