import { describe, expect, it } from 'vitest';
import {
  binaryEntropy,
  computeMetrics,
  createPrng,
  LearnError,
  logloss,
  MetricsAccumulator,
  rocAuc,
} from '../src/index.js';
import { sklearnMetrics } from './support/sklearn.js';

/** O(n²) reference AUC: P(positive outranks negative) with ties counted ½. */
function bruteAuc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < p.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < p.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      if ((p[i] as number) > (p[j] as number)) u += 1;
      else if (p[i] === p[j]) u += 0.5;
    }
  }
  return u / pairs;
}

function randomCase(n: number, seed: number, levels: number, rate: number) {
  const r = createPrng(seed);
  const predictions = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Few distinct levels → many ties; labels correlated with the score.
    const p = levels > 0 ? (1 + Math.floor(r() * levels)) / (levels + 1) : r();
    predictions[i] = p;
    labels[i] = r() < rate * 2 * p ? 1 : 0;
  }
  return { predictions, labels };
}

describe('metrics', () => {
  it('computes AUC with ties exactly on a hand-checked example', () => {
    // Positives at 0.9, 0.5, 0.5; negatives at 0.5, 0.1. Pairs: (0.9>0.5, 0.9>0.1, 0.5=0.5 ½, 0.5>0.1, 0.5=0.5 ½, 0.5>0.1) → 5/6.
    expect(rocAuc([0.9, 0.5, 0.5, 0.5, 0.1], [1, 1, 0, 1, 0])).toBeCloseTo(5 / 6, 15);
    expect(rocAuc([0.1, 0.2, 0.3], [0, 0, 1])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.3], [1, 0, 0])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5], [1, 0, 0])).toBe(0.5);
    expect(rocAuc([0.5, 0.7], [1, 1])).toBeNaN();
  });

  it('matches an O(n²) reference AUC on random data with ties', () => {
    for (const seed of [1, 2, 3]) {
      const { predictions, labels } = randomCase(700, seed, 9, 0.3);
      expect(rocAuc(predictions, labels)).toBeCloseTo(bruteAuc(predictions, labels), 12);
    }
  });

  it('computes logloss, NE, calibration, counts and base rate', () => {
    const p = [0.2, 0.4, 0.1, 0.8];
    const y = [0, 1, 0, 1];
    const ll = -(Math.log(0.8) + Math.log(0.4) + Math.log(0.9) + Math.log(0.8)) / 4;
    const m = computeMetrics(p, y);
    expect(m.count).toBe(4);
    expect(m.positives).toBe(2);
    expect(m.baseRate).toBe(0.5);
    expect(m.logloss).toBeCloseTo(ll, 14);
    expect(logloss(p, y)).toBeCloseTo(ll, 14);
    expect(m.normalizedEntropy).toBeCloseTo(ll / Math.log(2), 14);
    expect(m.calibration).toBeCloseTo(1.5 / 2, 14);
    expect(m.meanPrediction).toBeCloseTo(1.5 / 4, 14);
    expect(binaryEntropy(0.5)).toBeCloseTo(Math.log(2), 15);
    // Predicting the base rate everywhere gives NE = 1.
    expect(computeMetrics([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]).normalizedEntropy).toBeCloseTo(1, 14);
  });

  it('builds an equal-count reliability table over sorted predictions', () => {
    const p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const y = [0, 0, 1, 0, 1, 1, 0, 1];
    const { reliability } = computeMetrics(p, y, { reliabilityBins: 4 });
    expect(reliability).toHaveLength(4);
    expect(reliability.map((b) => b.count)).toEqual([2, 2, 2, 2]);
    expect(reliability[0]).toMatchObject({ minPrediction: 0.1, maxPrediction: 0.2, observedRate: 0 });
    expect(reliability[0]?.meanPrediction).toBeCloseTo(0.15, 15);
    expect(reliability[1]?.observedRate).toBe(0.5);
    expect(reliability[2]?.observedRate).toBe(1);
    expect(reliability[3]?.observedRate).toBe(0.5);
  });

  it('streams: adding pairs one by one equals computing over arrays', () => {
    const { predictions, labels } = randomCase(5000, 9, 0, 0.1);
    const acc = new MetricsAccumulator();
    for (let i = 0; i < predictions.length; i++) acc.add(predictions[i] as number, labels[i] as number);
    expect(acc.count).toBe(5000);
    expect(acc.result()).toEqual(computeMetrics(predictions, labels));
  });

  it('rejects NaN or out-of-range predictions, bad labels and length mismatches', () => {
    expect(() => computeMetrics([Number.NaN], [1])).toThrow(LearnError);
    expect(() => computeMetrics([1.5], [1])).toThrow(/probabilities/);
    expect(() => computeMetrics([0.5], [2])).toThrow(/labels must be 0 or 1/);
    expect(() => computeMetrics([0.5, 0.2], [1])).toThrow(/2 predictions but 1 labels/);
    expect(() => computeMetrics([], [])).toThrow(/no \(prediction, label\) pairs/);
  });

  it('matches scikit-learn roc_auc_score and log_loss to 1e-9 on random data with ties', async () => {
    const cases = {
      ties_few_levels: randomCase(20_000, 11, 7, 0.2),
      ties_many_levels: randomCase(20_000, 12, 200, 0.05),
      continuous: randomCase(20_000, 13, 0, 0.3),
      extreme: (() => {
        const c = randomCase(5_000, 14, 0, 0.5);
        c.predictions[0] = 0;
        c.predictions[1] = 1;
        c.predictions[2] = 1e-300;
        return c;
      })(),
    };
    const expected = await sklearnMetrics(cases);
    expect(expected).toHaveLength(4);
    for (const e of expected) {
      const c = cases[e.case as keyof typeof cases];
      const m = computeMetrics(c.predictions, c.labels);
      expect(Math.abs(m.auc - e.auc), `${e.case} auc`).toBeLessThan(1e-9);
      expect(Math.abs(m.logloss - e.logloss), `${e.case} logloss`).toBeLessThan(1e-9);
    }
  });
});
