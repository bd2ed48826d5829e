import { createScorer } from '@fallback-ctr/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, createMetrics, createModelHolder, type PredictImpression } from '../src/index.js';
import { predictRequest } from './api-requests.js';
import { loadedHolder, makeLoadedModel, randomImpression, seededRandom } from './fixtures.js';

type App = Awaited<ReturnType<typeof buildApp>>;

describe('POST /predict', () => {
  const model = makeLoadedModel(3, '12');
  let app: App;
  beforeAll(async () => {
    app = await buildApp({ holder: createModelHolder(model), maxBatchSize: 50 });
  });
  afterAll(() => app.close());

  it('scores every impression in order with the libs/model scorer and echoes ids', async () => {
    const random = seededRandom(9);
    const impressions: PredictImpression[] = Array.from({ length: 20 }, (_, i) => ({
      id: `imp-${i}`,
      ...randomImpression(random),
    }));
    delete impressions[4]?.id;
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { model: string; version: string; predictions: { id?: string; ctr: number }[] };
    expect(body.model).toBe('test-model');
    expect(body.version).toBe('12');
    const reference = createScorer(model.artifact);
    expect(body.predictions).toHaveLength(20);
    body.predictions.forEach((p, i) => {
      if (i === 4) expect(p).not.toHaveProperty('id');
      else expect(p.id).toBe(`imp-${i}`);
      expect(p.ctr).toBeCloseTo(reference.score(impressions[i] ?? {}), 12);
      expect(p.ctr).toBeGreaterThan(0);
      expect(p.ctr).toBeLessThan(1);
    });
    // Different impressions get different scores: the model is actually applied.
    expect(new Set(body.predictions.map((p) => p.ctr)).size).toBeGreaterThan(10);
  });

  it('scores an impression with every field missing and ignores unknown fields', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: { impressions: [{}, { not_a_field: [1, 2, { x: 1 }] }], extra: true },
    });
    expect(res.statusCode).toBe(200);
    const [a, b] = (res.json() as { predictions: { ctr: number }[] }).predictions;
    const reference = createScorer(model.artifact).score({});
    expect(a?.ctr).toBeCloseTo(reference, 12);
    expect(b?.ctr).toBeCloseTo(reference, 12);
  });
});

describe('health, readiness, model, metrics, docs', () => {
  it('/healthz is 200 at once; /readyz and /predict are 503 until a model is set, then ready', async () => {
    const holder = createModelHolder();
    const app = await buildApp({ holder });
    try {
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      const notReady = await app.inject('/readyz');
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toMatchObject({ ready: false });
      const predict = await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } });
      expect(predict.statusCode).toBe(503);
      expect(predict.headers['retry-after']).toBe('1');
      expect(predict.json()).toMatchObject({ code: 'INFERENCE_NOT_READY' });
      expect((await app.inject('/model')).statusCode).toBe(503);

      holder.set(makeLoadedModel(1, '4'));
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ ready: true, model: 'test-model', version: '4' });
      expect(() => holder.set(makeLoadedModel(2, '5'))).toThrow(/never swaps/);

      holder.startDraining();
      const draining = await app.inject('/readyz');
      expect(draining.statusCode).toBe(503);
      expect(draining.json()).toMatchObject({ ready: false, reason: 'draining' });
      // Still serving while draining: load balancers may still send a few requests.
      const late = await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } });
      expect(late.statusCode).toBe(200);
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('/model reports name, version, feature spec, training and holdout metrics, loaded-at', async () => {
    const model = makeLoadedModel(2, '9');
    const app = await buildApp({ holder: createModelHolder(model) });
    try {
      const res = await app.inject('/model');
      expect(res.statusCode).toBe(200);
      const body = res.json() as Record<string, unknown>;
      expect(body).toMatchObject({
        name: 'test-model',
        version: '9',
        resolvedFrom: 'alias:champion',
        runId: 'run-1',
        formatVersion: 1,
        sha256: model.artifact.sha256,
        loadedAt: '2026-11-26T01:02:03.000Z',
        trainingMetrics: { progressiveLogloss: 0.09, 'holdout.auc': 0.71, 'holdout.logloss': 0.091 },
        trainingMetadata: { algorithm: 'ftrl-proximal', rows: 10_000, positives: 200 },
      });
      expect(body.featureSpec).toEqual(JSON.parse(JSON.stringify(model.artifact.featureSpec)));
    } finally {
      await app.close();
    }
  });

  it('/metrics exposes request durations by route and status, predictions, batch sizes, errors and model info', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = await buildApp({ holder: createModelHolder(makeLoadedModel(1, '3')), metrics });
    try {
      await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}, {}, {}] } });
      await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } });
      await app.inject({ method: 'POST', url: '/predict', payload: { impressions: 'x' } });
      await app.inject('/no-such-route');
      const res = await app.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.body;
      expect(text).toMatch(
        /fallback_ctr_inference_http_request_duration_seconds_count\{method="POST",route="\/predict",status_code="200"\} 2/,
      );
      expect(text).toMatch(
        /fallback_ctr_inference_http_request_duration_seconds_count\{method="POST",route="\/predict",status_code="400"\} 1/,
      );
      expect(text).toMatch(
        /fallback_ctr_inference_http_request_duration_seconds_count\{method="\*",route="unmatched",status_code="404"\} 1/,
      );
      expect(text).toMatch(/fallback_ctr_inference_predictions_total 4/);
      expect(text).toMatch(/fallback_ctr_inference_predict_batch_size_sum 4/);
      expect(text).toMatch(/fallback_ctr_inference_predict_batch_size_count 2/);
      expect(text).toMatch(
        /fallback_ctr_inference_errors_total\{code="INFERENCE_INVALID_REQUEST",status_code="400"\} 1/,
      );
      expect(text).toMatch(
        /fallback_ctr_inference_model_info\{model_name="test-model",model_version="3",resolved_from="alias:champion",format_version="1"\} 1/,
      );
    } finally {
      await app.close();
    }
  });

  it('serves an OpenAPI document generated from the same schemas, and a docs page', async () => {
    const app = await buildApp({ holder: loadedHolder(), maxBatchSize: 321, apiTokens: ['t'] });
    try {
      const doc = (await app.inject('/docs/json')).json() as {
        openapi: string;
        paths: Record<
          string,
          Record<string, { requestBody?: unknown; responses: Record<string, unknown>; security?: unknown }>
        >;
      };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/predict', '/healthz', '/readyz', '/model', '/metrics']),
      );
      const predict = doc.paths['/predict']?.post;
      expect(JSON.stringify(predict?.requestBody)).toContain('"maxItems":321');
      expect(JSON.stringify(predict?.requestBody)).toContain('slot_id');
      expect(Object.keys(predict?.responses ?? {})).toEqual(
        expect.arrayContaining(['200', '400', '401', '413', '415', '503']),
      );
      expect(predict?.security).toEqual([{ bearer: [] }]);
      const page = await app.inject('/docs');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/html/);
      expect(page.body).toMatch(/swagger/i);
    } finally {
      await app.close();
    }
  });
});

describe('the error path and the metrics path', () => {
  it('every error answer is counted in errors_total, whichever path produced it (401, 404, 405, 400, 503)', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const holder = createModelHolder();
    const app = await buildApp({ holder, metrics, apiTokens: ['t'] });
    try {
      const auth = { authorization: 'Bearer t' };
      expect((await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } })).statusCode).toBe(
        401,
      );
      expect((await app.inject('/nowhere')).statusCode).toBe(404);
      expect((await app.inject('/predict')).statusCode).toBe(405);
      const notReady = await app.inject({
        method: 'POST',
        url: '/predict',
        headers: auth,
        payload: { impressions: [{}] },
      });
      expect(notReady.statusCode).toBe(503);
      expect((await app.inject('/model')).statusCode).toBe(503);
      holder.set(makeLoadedModel(1, '3'));
      const bad = await app.inject({ method: 'POST', url: '/predict', headers: auth, payload: { impressions: 1 } });
      expect(bad.statusCode).toBe(400);
      const text = (await app.inject('/metrics')).body;
      const count = (code: string, status: number) =>
        new RegExp(`fallback_ctr_inference_errors_total\\{code="${code}",status_code="${status}"\\} (\\d+)`).exec(
          text,
        )?.[1];
      expect(count('INFERENCE_UNAUTHORIZED', 401)).toBe('1');
      expect(count('INFERENCE_INVALID_REQUEST', 404)).toBe('1');
      expect(count('INFERENCE_INVALID_REQUEST', 405)).toBe('1');
      expect(count('INFERENCE_NOT_READY', 503)).toBe('2');
      expect(count('INFERENCE_INVALID_REQUEST', 400)).toBe('1');
    } finally {
      await app.close();
    }
  });

  it('/metrics gathers the aggregate at most once a second however many scrapers ask', async () => {
    let gathered = 0;
    const app = await buildApp({
      holder: loadedHolder(),
      metricsText: async () => `# gathered ${++gathered}\n`,
    });
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject('/metrics')));
      expect(answers.every((a) => a.statusCode === 200 && a.body === '# gathered 1\n')).toBe(true);
      expect(gathered).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe("prototype-poisoning keys in bodies (parsed without Fastify's scans)", () => {
  it('are inert: scored as if absent, nothing reaches Object.prototype, no field is read through them', async () => {
    const model = makeLoadedModel(5, '1');
    const app = await buildApp({ holder: createModelHolder(model) });
    const reference = createScorer(model.artifact);
    const impression = { ad_id: 'ad-7', os: 'ios', context: { hour_of_day: 4 } };
    const poisoned = [
      `{"impressions":[{"ad_id":"ad-7","os":"ios","context":{"hour_of_day":4},"__proto__":{"country":"DE","polluted":1}}]}`,
      `{"impressions":[{"ad_id":"ad-7","os":"ios","context":{"hour_of_day":4,"__proto__":{"page_views":9,"polluted":1}}}]}`,
      `{"impressions":[{"ad_id":"ad-7","os":"ios","context":{"hour_of_day":4},"constructor":{"prototype":{"country":"DE","polluted":1}}}]}`,
      `{"__proto__":{"impressions":[{"country":"DE"}],"polluted":1},"impressions":[{"ad_id":"ad-7","os":"ios","context":{"hour_of_day":4}}]}`,
      `{"constructor":{"prototype":{"polluted":1}},"impressions":[{"ad_id":"ad-7","os":"ios","context":{"constructor":{"prototype":{"polluted":1}},"hour_of_day":4}}]}`,
    ];
    try {
      for (const payload of poisoned) {
        const res = await app.inject(predictRequest(payload));
        if (payload.includes('"context":{"constructor"') || payload.includes('"__proto__":{"page_views"')) {
          // A context value must be a scalar: an object there is a 400 like any other.
          expect(res.statusCode, payload).toBe(400);
          continue;
        }
        expect(res.statusCode, payload).toBe(200);
        const [prediction] = (res.json() as { predictions: { ctr: number }[] }).predictions;
        expect(prediction?.ctr).toBe(reference.score(impression));
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
      expect(({} as Record<string, unknown>).country).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});

describe('bearer auth on /predict', () => {
  it('accepts any configured token and rejects a missing, wrong or malformed one with 401', async () => {
    const app = await buildApp({ holder: loadedHolder(), apiTokens: ['alpha-token', 'beta-token'] });
    try {
      const call = (authorization?: string) =>
        app.inject({
          method: 'POST',
          url: '/predict',
          headers: authorization === undefined ? {} : { authorization },
          payload: { impressions: [{}] },
        });
      expect((await call('Bearer alpha-token')).statusCode).toBe(200);
      expect((await call('bearer beta-token')).statusCode).toBe(200);
      for (const bad of [
        undefined,
        '',
        'Bearer',
        'Bearer alpha',
        'Bearer alpha-token-x',
        'Basic alpha-token',
        'alpha-token',
      ]) {
        const res = await call(bad);
        expect(res.statusCode, String(bad)).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.json()).toMatchObject({ code: 'INFERENCE_UNAUTHORIZED' });
      }
      // Auth guards /predict only: probes and metrics stay open.
      expect((await app.inject('/readyz')).statusCode).toBe(200);
      expect((await app.inject('/metrics')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
