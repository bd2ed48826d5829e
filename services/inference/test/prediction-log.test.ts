import type { PredictionLogWriter } from '@fallback-ctr/prediction-log';
import { silentLogger } from '@fallback-ctr/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, usePredictionLogSchema } from '../../../test/support/prediction-log-schema.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createMetrics } from '../src/metrics.js';
import { createInferencePredictionLog } from '../src/prediction-log.js';
import { predictRequest } from './api-requests.js';
import { loadedHolder, makeArtifact } from './fixtures.js';
import { cleanup, publishVersion, testClient, uniqueName } from './mlflow-fixtures.js';
import { PROCESS_TEST_TIMEOUT_MS, PROCESS_WAIT_MS, serveModel } from './server-process.js';
import { freePort } from './tcp-proxy.js';

const db = usePredictionLogSchema('inference_plog');
const { schema } = db;
const settings = { sampleRate: 1, maxQueue: 1_000, batchSize: 100, flushIntervalMs: 60_000, writeTimeoutMs: 5_000 };

const logged = (prefix: string) =>
  db.rows('WHERE impression_id LIKE $1 ORDER BY impression_id COLLATE "C"', [`${prefix}%`]);

const predict = (impressions: object[]) => predictRequest(JSON.stringify({ impressions }));

describe('POST /predict with the prediction log on', () => {
  it('logs each impression with an id, with the served version and the score it answered', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const writer = createInferencePredictionLog(
      { ...settings, databaseUrl: databaseUrl(), schema },
      metrics,
      silentLogger(),
    );
    const app = await buildApp({ holder: loadedHolder(), metrics, predictionLog: writer });
    const response = await app.inject(predict([{ id: 'p-1', ad_id: 'a' }, { ad_id: 'b' }, { id: 'p-2', ad_id: 'c' }]));
    expect(response.statusCode).toBe(200);
    const answered = response.json<{ predictions: { id?: string; ctr: number }[] }>().predictions;
    await writer.flush();
    expect(await logged('p-')).toEqual([
      { impression_id: 'p-1', model_version: '7', role: 'served', score: answered[0]?.ctr },
      { impression_id: 'p-2', model_version: '7', role: 'served', score: answered[2]?.ctr },
    ]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('fallback_ctr_inference_prediction_log_written_total 2');
    expect(text).toContain('fallback_ctr_inference_prediction_log_dropped_total{reason="missing_id"} 1');
    expect(text).toContain('fallback_ctr_inference_prediction_log_queue_depth 0');
    await app.close();
    await writer.close();
  });

  it('answers at once while the database is down; the entries are dropped and counted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const downUrl = `postgres://nobody@127.0.0.1:${await freePort()}/none`;
    const writer: PredictionLogWriter = createInferencePredictionLog(
      { ...settings, databaseUrl: downUrl, schema },
      metrics,
      silentLogger(),
    );
    const app = await buildApp({ holder: loadedHolder(), metrics, predictionLog: writer });
    const response = await app.inject(predict([{ id: 'q-1' }, { id: 'q-2' }]));
    expect(response.statusCode).toBe(200);
    await writer.flush();
    expect(await metrics.registry.metrics()).toContain(
      'fallback_ctr_inference_prediction_log_dropped_total{reason="write_failed"} 2',
    );
    await app.close();
    await writer.close();
  });

  it('is off by default and configured from the environment', () => {
    const base = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' };
    expect(loadConfig(base).predictionLog).toBeUndefined();
    const config = loadConfig({
      ...base,
      PREDICTION_LOG_DATABASE_URL: 'postgres://u@db/clicks',
      PREDICTION_LOG_SAMPLE_RATE: '0.1',
      PREDICTION_LOG_FLUSH_SECONDS: '0.5',
    });
    expect(config.predictionLog).toMatchObject({
      databaseUrl: 'postgres://u@db/clicks',
      schema: 'clicklog',
      sampleRate: 0.1,
      flushIntervalMs: 500,
      maxQueue: 50_000,
      batchSize: 10_000,
    });
    expect(() => loadConfig({ ...base, PREDICTION_LOG_DATABASE_URL: 'x', PREDICTION_LOG_SAMPLE_RATE: '2' })).toThrow(
      /PREDICTION_LOG_DATABASE_URL[\s\S]*PREDICTION_LOG_SAMPLE_RATE/,
    );
  });
});

describe('the real server process with the prediction log on', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  const client = testClient();
  const name = uniqueName('plog');
  afterAll(() => cleanup(client, name));

  it('writes what it served before it exits on SIGTERM (the log is flushed after the drain)', async () => {
    const version = await publishVersion(client, name, makeArtifact(41).bytes, { alias: 'champion' });
    const server = await serveModel(name, {
      PREDICTION_LOG_DATABASE_URL: databaseUrl(),
      PREDICTION_LOG_SCHEMA: schema,
      // Never by the timer: only the shutdown writes them.
      PREDICTION_LOG_FLUSH_SECONDS: '3600',
    });
    try {
      await server.waitForStatus('/readyz', (status) => status === 200, PROCESS_WAIT_MS);
      const response = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ impressions: [{ id: 's-1', ad_id: 'x' }, { id: 's-2' }] }),
      });
      expect(response.status).toBe(200);
      expect(await logged('s-')).toEqual([]);
      server.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect((await logged('s-')).map((r) => [r.impression_id, r.model_version])).toEqual([
        ['s-1', version],
        ['s-2', version],
      ]);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
