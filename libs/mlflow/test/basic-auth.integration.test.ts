import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlflowClient, type MlflowError, MlflowErrorCode, mlflowClientFromEnv } from '../src/index.js';
import { startTestMlflowServer, type TestMlflowServer } from './support/mlflow-server.js';
import { uniqueName } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

// A private server started with --app-name basic-auth and --no-serve-artifacts (SQLite, temp dir).
let server: TestMlflowServer;

beforeAll(async () => {
  server = await startTestMlflowServer({ basicAuth: true, serveArtifacts: false });
});

afterAll(async () => {
  await server?.stop();
});

// Slow hashing of passwords on a loaded machine: the suite's 300 s deadline allows for it.
describe('basic auth', () => {
  it('works with the right credentials, from options, the environment and the URL', async () => {
    const auth = { type: 'basic' as const, username: server.adminUsername, password: server.adminPassword };
    const client = createMlflowClient({ trackingUri: server.url, auth });
    const experiment = await client.getOrCreateExperiment(uniqueName('auth'));
    const run = await client.createRun({ experimentId: experiment.experimentId });
    await client.logParams(run.info.runId, { who: 'admin' });

    const fromEnv = mlflowClientFromEnv({
      MLFLOW_TRACKING_URI: server.url,
      MLFLOW_TRACKING_USERNAME: server.adminUsername,
      MLFLOW_TRACKING_PASSWORD: server.adminPassword,
    });
    expect((await fromEnv.getRun(run.info.runId)).data.params.who).toBe('admin');

    const inUrl = createMlflowClient({
      trackingUri: server.url.replace('http://', `http://${server.adminUsername}:${server.adminPassword}@`),
    });
    expect((await inUrl.getExperimentByName(experiment.name))?.experimentId).toBe(experiment.experimentId);
  });

  it('gives a clear, non-retried 401 error for wrong or missing credentials', async () => {
    const wrong = createMlflowClient({
      trackingUri: server.url,
      auth: { type: 'basic', username: server.adminUsername, password: 'wrong-password' },
    });
    const e = await mlflowRejection(wrong.getExperimentByName('Default'));
    expect(e.code).toBe(MlflowErrorCode.UNAUTHORIZED);
    expect(e.status).toBe(401);
    expect(e.attempts).toBeUndefined();
    expect(e.message).toContain('GET /api/2.0/mlflow/experiments/get-by-name');
    expect(e.message).toMatch(/credentials were rejected: check MLFLOW_TRACKING_USERNAME/);
    expect(e.message).not.toContain('wrong-password');

    const anonymous = createMlflowClient({ trackingUri: server.url });
    const missing = (await anonymous.getExperimentByName('Default').catch((x: unknown) => x)) as MlflowError;
    expect(missing.code).toBe(MlflowErrorCode.UNAUTHORIZED);
    expect(missing.message).toMatch(
      /requires authentication: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD/,
    );
  });

  it('says when the server does not serve artifacts', async () => {
    const client = createMlflowClient({
      trackingUri: server.url,
      auth: { type: 'basic', username: server.adminUsername, password: server.adminPassword },
    });
    const experiment = await client.getOrCreateExperiment(uniqueName('noartifacts'));
    const run = await client.createRun({ experimentId: experiment.experimentId });
    // Without the proxy, runs get a local path the client cannot reach.
    const local = (await client
      .uploadArtifact(run.info.artifactUri, 'model/model.json', Buffer.from('{}'))
      .catch((x: unknown) => x)) as MlflowError;
    expect(local.code).toBe(MlflowErrorCode.UNSUPPORTED_ARTIFACT_URI);
    const off = (await client
      .listArtifacts(`mlflow-artifacts:/${experiment.experimentId}/${run.info.runId}/artifacts`)
      .catch((x: unknown) => x)) as MlflowError;
    expect(off.code).toBe(MlflowErrorCode.ARTIFACTS_NOT_SERVED);
    expect(off.status).toBe(503);
    expect(off.message).toMatch(/does not serve artifacts; start mlflow server with --serve-artifacts/);
    expect(off.attempts).toBeUndefined();
  });
});
