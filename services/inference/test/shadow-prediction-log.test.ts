import { createScorer } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { describe, expect, it } from 'vitest';
import { databaseUrl, usePredictionLogSchema } from '../../../test/support/prediction-log-schema.js';
import { buildApp } from '../src/app.js';
import { createMetrics } from '../src/metrics.js';
import { createModelHolder } from '../src/model-holder.js';
import { createInferencePredictionLog } from '../src/prediction-log.js';
import { makeLoadedModel, randomImpression, seededRandom } from './fixtures.js';

const db = usePredictionLogSchema('inference_shadow');
const { schema } = db;

describe('shadow scores in the prediction log (real PostgreSQL)', () => {
  it('logs the challenger with its own version and role shadow, on the same sampled impression ids as the champion', async () => {
    const champion = makeLoadedModel(3, '12');
    const challenger = makeLoadedModel(4, '13');
    const metrics = createMetrics({ defaultMetrics: false });
    // Half the ids are sampled (by a hash of the id): both roles must keep the same half.
    const writer = createInferencePredictionLog(
      {
        databaseUrl: databaseUrl(),
        schema,
        sampleRate: 0.5,
        maxQueue: 1_000,
        batchSize: 500,
        flushIntervalMs: 60_000,
        writeTimeoutMs: 10_000,
      },
      metrics,
      silentLogger(),
    );
    const app = await buildApp({
      holder: createModelHolder(champion),
      metrics,
      predictionLog: writer,
      shadow: { holder: createModelHolder(challenger), share: 1 },
    });
    try {
      const random = seededRandom(8);
      const impressions = Array.from({ length: 40 }, (_, i) => ({ id: `s-${i}`, ...randomImpression(random) }));
      const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions } });
      expect(res.statusCode).toBe(200);
      // The shadow scoring runs after the answer: wait for it, then write what is queued.
      while ((await metrics.shadowRequests.get()).values[0]?.value !== 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      await writer.flush();
      const rows = await db.rows('ORDER BY role, impression_id');
      const served = rows.filter((r) => r.role === 'served');
      const shadow = rows.filter((r) => r.role === 'shadow');
      expect(served.length).toBeGreaterThan(5);
      expect(served.length).toBeLessThan(35);
      expect(shadow.map((r) => r.impression_id)).toEqual(served.map((r) => r.impression_id));
      expect(new Set(served.map((r) => r.model_version))).toEqual(new Set(['12']));
      expect(new Set(shadow.map((r) => r.model_version))).toEqual(new Set(['13']));
      const byId = new Map(impressions.map((imp) => [imp.id, imp]));
      const challengerScorer = createScorer(challenger.artifact);
      for (const row of shadow)
        expect(row.score).toBeCloseTo(challengerScorer.score(byId.get(row.impression_id) ?? {}), 12);
      // What the client got is the champion's score, as logged with role served.
      const answered = new Map(
        (res.json() as { predictions: { id: string; ctr: number }[] }).predictions.map((p) => [p.id, p.ctr]),
      );
      for (const row of served) expect(row.score).toBeCloseTo(answered.get(row.impression_id) ?? Number.NaN, 12);
    } finally {
      await app.close();
      await writer.close();
    }
  });
});
