import { createScorer } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  buildApp,
  createMetrics,
  createModelHolder,
  createShadowScorer,
  type PredictImpression,
  type ShadowScores,
} from '../src/index.js';
import { makeLoadedModel, randomImpression, seededRandom } from './fixtures.js';

const impressions = (n: number, seed = 5): PredictImpression[] => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({ id: `imp-${i}`, ...randomImpression(random) }));
};

/** Resolves once `count` shadow scorings have reached onScored. */
function collector() {
  const scored: ShadowScores[] = [];
  const waiters: (() => void)[] = [];
  return {
    scored,
    onScored: (s: ShadowScores) => {
      scored.push(s);
      for (const w of waiters.splice(0)) w();
    },
    async waitFor(count: number): Promise<void> {
      while (scored.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('shadow scoring in POST /predict', () => {
  it('answers with the champion only; the challenger scores the same impressions afterwards, counted in /metrics', async () => {
    const champion = makeLoadedModel(3, '12');
    const challenger = { ...makeLoadedModel(4, '13'), resolvedFrom: 'alias:challenger' };
    const shadow = collector();
    const metrics = createMetrics({ defaultMetrics: false });
    const app = await buildApp({
      holder: createModelHolder(champion),
      metrics,
      shadow: { holder: createModelHolder(challenger), share: 1, onScored: shadow.onScored },
    });
    try {
      const batch = impressions(30);
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions: batch } });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { version: string; predictions: { id: string; ctr: number }[] };
      const championScorer = createScorer(champion.artifact);
      const challengerScorer = createScorer(challenger.artifact);
      expect(body.version).toBe('12');
      body.predictions.forEach((p, i) => {
        expect(p.ctr).toBeCloseTo(championScorer.score(batch[i] ?? {}), 12);
      });
      // The two models disagree, so an answer carrying the challenger's scores would fail above.
      expect(challengerScorer.score(batch[0] ?? {})).not.toBeCloseTo(championScorer.score(batch[0] ?? {}), 6);

      await shadow.waitFor(1);
      const [scored] = shadow.scored;
      expect(scored?.model.version).toBe('13');
      expect(scored?.impressions).toHaveLength(30);
      scored?.impressions.forEach((imp, i) => {
        expect(imp.id).toBe(`imp-${i}`);
        expect(scored.ctrs[i]).toBeCloseTo(challengerScorer.score(batch[i] ?? {}), 12);
      });
      expect(await metricValue(metrics, 'fallback_ctr_inference_shadow_requests_total')).toBe(1);
      expect(await metricValue(metrics, 'fallback_ctr_inference_shadow_predictions_total')).toBe(30);
      const text = await metrics.registry.metrics();
      expect(text).toContain(
        'fallback_ctr_inference_shadow_model_info{model_name="test-model",model_version="13",resolved_from="alias:challenger"} 1',
      );
    } finally {
      await app.close();
    }
  });

  it('without a challenger loaded nothing is scored in shadow and answers are the same', async () => {
    const shadow = collector();
    const metrics = createMetrics({ defaultMetrics: false });
    const app = await buildApp({
      holder: createModelHolder(makeLoadedModel(3, '12')),
      metrics,
      shadow: { holder: createModelHolder(), share: 1, onScored: shadow.onScored },
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions: impressions(3) } });
      expect(res.statusCode).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      expect(shadow.scored).toHaveLength(0);
      expect(await metricValue(metrics, 'fallback_ctr_inference_shadow_requests_total')).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('createShadowScorer', () => {
  const challenger = makeLoadedModel(4, '13');

  it('scores the configured share of requests, after the caller returns', () => {
    const deferred: (() => void)[] = [];
    const shadow = collector();
    const draws = [0.05, 0.5, 0.19, 0.2, 0.99];
    const scorer = createShadowScorer({
      holder: createModelHolder(challenger),
      share: 0.2,
      metrics: createMetrics({ defaultMetrics: false }),
      random: () => draws.shift() ?? 1,
      defer: (work) => deferred.push(work),
      onScored: shadow.onScored,
    });
    const picked = [1, 2, 3, 4, 5].map(() => scorer.afterAnswer(impressions(2)));
    expect(picked).toEqual([true, false, true, false, false]);
    // Nothing was scored while the request was being answered.
    expect(shadow.scored).toHaveLength(0);
    for (const work of deferred) work();
    expect(shadow.scored).toHaveLength(2);
  });

  it('a challenger that throws is counted and logged once; the caller never sees it', async () => {
    const broken = {
      ...challenger,
      scorer: {
        ...challenger.scorer,
        scoreBatch: () => {
          throw new Error('boom');
        },
      },
    };
    const metrics = createMetrics({ defaultMetrics: false });
    const errors: unknown[] = [];
    const logger = {
      error: (obj: unknown) => errors.push(obj),
    } as unknown as Parameters<typeof createShadowScorer>[0]['logger'];
    const scorer = createShadowScorer({
      holder: createModelHolder(broken),
      share: 1,
      metrics,
      logger,
      defer: (work) => work(),
    });
    expect(scorer.afterAnswer(impressions(1))).toBe(true);
    expect(scorer.afterAnswer(impressions(1))).toBe(true);
    expect(await metricValue(metrics, 'fallback_ctr_inference_shadow_errors_total')).toBe(2);
    expect(errors).toHaveLength(1);
  });
});
