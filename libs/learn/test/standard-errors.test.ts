import { describe, expect, it } from 'vitest';
import { computeMetrics, createPrng, LearnError, metricEstimates, pairedEstimates } from '../src/index.js';

/**
 * A world with a known click probability per row: a skilled model scores it (with noise), a weaker
 * one scores a noisier copy, both on the same rows. Replicating the world gives the true sampling
 * spread of each metric, which the analytic standard errors must match.
 */
function world(n: number, seed: number, baseRate: number) {
  const r = createPrng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const logit = (p: number) => Math.log(p / (1 - p));
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  const strong = new Float64Array(n);
  const weak = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const z = logit(baseRate) - 0.5 + gauss();
    labels[i] = r() < sigmoid(z) ? 1 : 0;
    strong[i] = sigmoid(z + 0.3 * gauss());
    weak[i] = sigmoid(0.7 * z + 0.3 * logit(baseRate) + 0.6 * gauss());
  }
  return { strong, weak, labels };
}

function sd(values: number[]): number {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

describe('metricEstimates', () => {
  it('agrees with computeMetrics on the point values', () => {
    const { strong, labels } = world(4_000, 1, 0.05);
    const e = metricEstimates(strong, labels);
    const m = computeMetrics(strong, labels);
    expect(e.logloss.value).toBeCloseTo(m.logloss, 12);
    expect(e.auc.value).toBeCloseTo(m.auc, 12);
    expect(e.ne.value).toBeCloseTo(m.normalizedEntropy, 12);
    expect(e.calibration.value).toBeCloseTo(m.calibration, 12);
  });

  it('matches the spread of each metric over replicated holdouts (within 20 %)', () => {
    const replicates = 300;
    const n = 3_000;
    const seen: Record<'logloss' | 'auc' | 'ne' | 'calibration', number[]> = {
      logloss: [],
      auc: [],
      ne: [],
      calibration: [],
    };
    const predicted: Record<keyof typeof seen, number[]> = { logloss: [], auc: [], ne: [], calibration: [] };
    for (let k = 0; k < replicates; k++) {
      const { strong, labels } = world(n, 1_000 + k, 0.03);
      const e = metricEstimates(strong, labels);
      for (const key of Object.keys(seen) as (keyof typeof seen)[]) {
        seen[key].push(e[key].value);
        predicted[key].push(e[key].se);
      }
    }
    for (const key of Object.keys(seen) as (keyof typeof seen)[]) {
      const empirical = sd(seen[key]);
      const analytic = predicted[key].reduce((a, b) => a + b, 0) / replicates;
      expect(analytic / empirical, key).toBeGreaterThan(0.8);
      expect(analytic / empirical, key).toBeLessThan(1.2);
    }
  });

  it('gives a constant base-rate predictor NE 1 with no uncertainty', () => {
    const labels = Uint8Array.from({ length: 1_000 }, (_, i) => (i % 50 === 0 ? 1 : 0));
    const e = metricEstimates(new Float64Array(1_000).fill(0.02), labels);
    expect(e.ne.value).toBeCloseTo(1, 12);
    expect(e.ne.se).toBeLessThan(1e-9);
    expect(e.auc.value).toBe(0.5);
  });

  it('reports NaN, not a number, when a metric cannot be estimated', () => {
    const e = metricEstimates([0.1, 0.2, 0.3], [0, 0, 0]);
    expect(e.auc.se).toBeNaN();
    expect(e.ne.value).toBeNaN();
    expect(e.calibration.se).toBeNaN();
    expect(() => metricEstimates([0.1], [0, 1])).toThrow(LearnError);
    expect(() => metricEstimates([1.5], [1])).toThrow(/probabilities/);
  });
});

describe('pairedEstimates', () => {
  it('matches the spread of the candidate − champion differences over replicated holdouts', () => {
    const replicates = 300;
    const logloss: number[] = [];
    const auc: number[] = [];
    const llSe: number[] = [];
    const aucSe: number[] = [];
    for (let k = 0; k < replicates; k++) {
      const { strong, weak, labels } = world(3_000, 5_000 + k, 0.03);
      const d = pairedEstimates(weak, strong, labels);
      if (k < 3) {
        const a = metricEstimates(weak, labels);
        const b = metricEstimates(strong, labels);
        expect(d.logloss.value).toBeCloseTo(a.logloss.value - b.logloss.value, 12);
        expect(d.auc.value).toBeCloseTo(a.auc.value - b.auc.value, 12);
      }
      logloss.push(d.logloss.value);
      auc.push(d.auc.value);
      llSe.push(d.logloss.se);
      aucSe.push(d.auc.se);
    }
    const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(avg(llSe) / sd(logloss)).toBeGreaterThan(0.8);
    expect(avg(llSe) / sd(logloss)).toBeLessThan(1.2);
    expect(avg(aucSe) / sd(auc)).toBeGreaterThan(0.8);
    expect(avg(aucSe) / sd(auc)).toBeLessThan(1.2);
  });

  it('is far tighter than the unpaired standard errors, and zero for a model against itself', () => {
    const { strong, weak, labels } = world(5_000, 9, 0.03);
    const d = pairedEstimates(weak, strong, labels);
    const a = metricEstimates(weak, labels);
    const b = metricEstimates(strong, labels);
    expect(d.auc.se).toBeLessThan(Math.hypot(a.auc.se, b.auc.se));
    const self = pairedEstimates(strong, strong, labels);
    expect(self.logloss).toEqual({ value: 0, se: 0 });
    expect(self.auc.value).toBe(0);
    expect(self.auc.se).toBeLessThan(1e-12);
  });
});
