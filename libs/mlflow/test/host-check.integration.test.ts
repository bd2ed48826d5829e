import { describe, expect, it } from 'vitest';
import { createMlflowClient, MlflowErrorCode } from '../src/index.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { sharedTrackingUri } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

describe("the server's host-header check", () => {
  it('turns its plain-text 403 into an error that says to pass --allowed-hosts', async () => {
    // As when a client reaches MLflow by a service name the server was not told to accept.
    const proxy = await startFaultProxy(sharedTrackingUri(), () => ({ kind: 'pass' }), {
      hostHeader: 'mlflow.fallback-ctr.svc:5000',
    });
    try {
      const client = createMlflowClient({ trackingUri: proxy.url, retry: { initialDelayMs: 10 } });
      const e = await mlflowRejection(client.getExperimentByName('anything'));
      expect(e.code).toBe(MlflowErrorCode.FORBIDDEN);
      expect(e.status).toBe(403);
      expect(e.mlflowErrorCode).toBeUndefined();
      expect(e.message).toMatch(/host-header check.*--allowed-hosts/);
      expect(e.message).toContain('DNS rebinding');
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
