import { createScorer } from '@fallback-ctr/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, createModelHolder } from '../src/index.js';
import { makeLoadedModel, randomImpression, seededRandom } from './fixtures.js';

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
    const impressions = Array.from({ length: 20 }, (_, i) => ({ id: `imp-${i}`, ...randomImpression(random) }));
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
