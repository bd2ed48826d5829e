import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  FeaturizedBatchBuilder,
  refeaturizeBatch,
  type SearchTrial,
  searchAndFit,
  searchHyperparameters,
  trainOnBatchUntil,
  ValueCounter,
} from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

// The trainer's rows: shared arrays, a vocabulary, rare-token rows drawn per value.
const featurizer = createFeaturizer(defaultFeatureSpec);
const builder = new FeaturizedBatchBuilder(featurizer, 1024, { shared: true });
for (const row of syntheticRows({ rows: 60_000, seed: 23, intercept: -4 })) builder.add(row);
const counter = new ValueCounter(featurizer);
const raw = builder.build();
counter.addBatch(raw);
const batch = refeaturizeBatch(raw, createFeaturizer(defaultFeatureSpec, { vocabulary: counter.vocabulary(3) }), {
  inPlace: true,
});
const base = {
  hashBits: defaultFeatureSpec.hashBits,
  missingRate: 0.02,
  rareRate: 0.02,
  rareTokenDraws: counter.rareTokenDraws(3, 0.02),
};
// Three candidates, then the lone survivor's last rung: the case the trainer overlaps with its refit.
const search = {
  space: { alpha: [0.03, 0.1, 0.3], l1: [1], l2: [1], maxPasses: 3 },
  budget: 6,
  minBudgetRowUpdates: 0,
};
const timeless = (trials: SearchTrial[]) => trials.map(({ elapsedMs: _ms, ...t }) => t);

describe('the search with its last rung on a worker thread, the refit beside it', () => {
  it('chooses as on one thread, and the refit is the sequential refit bit for bit', async () => {
    const sequential = await searchAndFit(batch, base, search);
    let finalist: { alpha: number; l1: number; l2: number } | undefined;
    let refit: ReturnType<typeof trainOnBatchUntil> | undefined;
    const parallel = await searchHyperparameters(
      batch,
      base,
      { ...search, parallel: true },
      {
        onFinalist: (f, passes) => {
          finalist = f;
          refit = trainOnBatchUntil(batch, { ...base, ...f, passes: 3 }, passes);
        },
      },
    );
    expect(timeless(parallel.trials)).toEqual(timeless(sequential.search.trials));
    expect(parallel.trials.map((t) => t.rung)).toEqual([0, 0, 0, parallel.rungs - 1]);
    expect(parallel.best).toEqual(sequential.search.best);
    expect(finalist).toEqual({ alpha: parallel.best.alpha, l1: parallel.best.l1, l2: parallel.best.l2 });
    const result = await (refit as NonNullable<typeof refit>);
    expect(result.options.passes).toBe(sequential.result.options.passes);
    const got = result.ftrl.weights();
    const want = sequential.result.ftrl.weights();
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(result.ftrl.bias()).toBe(sequential.result.ftrl.bias());
  });
});
