import { createFeaturizer, defaultFeatureSpec, sigmoid } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  type FeaturizedBatch,
  featurizeRows,
  logloss,
  type SearchTrial,
  searchAndFit,
  searchHyperparameters,
  sliceRows,
  type TrainResult,
  trainOnBatch,
} from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

const featurizer = createFeaturizer(defaultFeatureSpec);
const batch = await featurizeRows(Array.from(syntheticRows({ rows: 60_000, seed: 31, intercept: -4 })), featurizer);
const train = sliceRows(batch, 0, 48_000);
const holdout = sliceRows(batch, 48_000, 60_000);

function holdoutLogloss(result: TrainResult, h: FeaturizedBatch): number {
  const p = Array.from({ length: h.rows }, (_, r) => sigmoid(result.ftrl.margin(h.indices, r * h.width, h.width)));
  return logloss(p, h.labels);
}

describe('hyper-parameter search', () => {
  it('reports every trial, halves by validation logloss, stays in budget and beats a poor setting', async () => {
    const trials: SearchTrial[] = [];
    const { search, result } = await searchAndFit(
      train,
      { hashBits: 20, missingRate: 0.02 },
      { budget: 6, minBudgetRowUpdates: 0 },
      { onTrial: (t) => void trials.push(t) },
    );
    expect(trials).toEqual(search.trials);
    expect(search.rungs).toBeGreaterThanOrEqual(2);
    // Each rung keeps the best third: the next rung's trials are the previous one's best.
    const ran = [...new Set(trials.map((t) => t.rung))];
    for (let i = 1; i < ran.length; i++) {
      const prev = trials
        .filter((t) => t.rung === ran[i - 1])
        .sort((a, b) => a.validationLogloss - b.validationLogloss);
      const next = trials.filter((t) => t.rung === ran[i]);
      expect(next.length).toBe(Math.ceil(prev.length / 3));
      const best = new Set(prev.slice(0, next.length).map((t) => `${t.alpha}/${t.l1}/${t.l2}`));
      for (const t of next) expect(best.has(`${t.alpha}/${t.l1}/${t.l2}`)).toBe(true);
      expect(next[0]?.trainRows).toBeGreaterThan(prev[0]?.trainRows ?? 0);
    }
    for (const t of trials) {
      expect(t.loglossByPass).toHaveLength(3);
      expect(t.validationLogloss).toBe(Math.min(...t.loglossByPass));
      expect(t.passes).toBe(t.loglossByPass.indexOf(t.validationLogloss) + 1);
    }
    expect(search.costInFits).toBeLessThanOrEqual(6 * (60_000 / 48_000) + 1e-9);
    expect(result.options).toMatchObject({ ...search.best, missingRate: 0.02 });
    // The chosen model is at least as good on the holdout as a clearly bad setting, and close to the defaults.
    const bad = trainOnBatch(train, { hashBits: 20, alpha: 2, l1: 0, l2: 0, passes: 3 });
    const defaults = trainOnBatch(train, { hashBits: 20 });
    expect(holdoutLogloss(result, holdout)).toBeLessThan(holdoutLogloss(bad, holdout));
    expect(holdoutLogloss(result, holdout)).toBeLessThan(holdoutLogloss(defaults, holdout) * 1.005);
  });

  it('skips the rungs between a lone survivor and the last one: the same winner, trained on the most rows', async () => {
    const space = { alpha: [0.03, 0.1, 0.3], l1: [1], l2: [1], maxPasses: 2 };
    const search = await searchHyperparameters(
      train,
      { hashBits: 20 },
      { space, budget: 3.8, minBudgetRowUpdates: 0, minRungClicks: 1 },
    );
    expect(search.rungs).toBe(4);
    expect(search.trials.map((t) => t.rung)).toEqual([0, 0, 0, 3]);
    const first = search.trials.filter((t) => t.rung === 0).sort((a, b) => a.validationLogloss - b.validationLogloss);
    const last = search.trials[3] as SearchTrial;
    expect([last.alpha, last.l1, last.l2]).toEqual([first[0]?.alpha, first[0]?.l1, first[0]?.l2]);
    expect(search.bestTrial).toBe(last);
    // The last rung trains on every tune row (the first 80 %), from scratch, as it did after the skipped rungs.
    const tuneRows = train.rows - Math.floor(train.rows * 0.2);
    expect(last.trainRows).toBe(tuneRows);
    const refit = trainOnBatch(sliceRows(train, 0, tuneRows), {
      hashBits: 20,
      alpha: last.alpha,
      l1: 1,
      l2: 1,
      passes: 2,
    });
    const validation = sliceRows(train, tuneRows, train.rows);
    const p = Array.from({ length: validation.rows }, (_, r) =>
      sigmoid(refit.ftrl.margin(validation.indices, r * validation.width, validation.width)),
    );
    expect(last.loglossByPass[1]).toBeCloseTo(logloss(p, validation.labels), 12);
  });

  it('keeps pinned axes and validates its input', async () => {
    const search = await searchHyperparameters(
      train,
      { hashBits: 20 },
      { space: { alpha: [0.2], l1: [0, 1], l2: [1], maxPasses: 1 }, minBudgetRowUpdates: 0 },
    );
    for (const t of search.trials) expect([t.alpha, t.l2, t.passes]).toEqual([0.2, 1, 1]);
    expect(search.best.alpha).toBe(0.2);
    const noClicks = { ...train, labels: new Uint8Array(train.rows) };
    await expect(searchHyperparameters(noClicks, { hashBits: 20 })).rejects.toMatchObject({
      code: 'LEARN_INPUT_INVALID',
    });
    await expect(searchHyperparameters(train, { hashBits: 20 }, { eta: 1 })).rejects.toMatchObject({
      code: 'LEARN_OPTIONS_INVALID',
    });
  });
});
