import { sigmoid } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  baseRateLogOdds,
  createFtrl,
  createPrng,
  type FeaturizedBatch,
  LearnError,
  trainOnBatch,
  trainOnFeaturizedRows,
} from '../src/index.js';

const HASH_BITS = 12;
const WIDTH = 4;

/** Rows whose features carry no signal: every row clicks with probability `ctr`, indices drawn at random. */
function noSignalBatch(rows: number, ctr: number, seed: number): FeaturizedBatch {
  const rand = createPrng(seed);
  const indices = new Uint32Array(rows * WIDTH);
  const labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < WIDTH; k++) indices[r * WIDTH + k] = Math.floor(rand() * 2 ** HASH_BITS);
    labels[r] = rand() < ctr ? 1 : 0;
  }
  return { rows, width: WIDTH, indices, labels };
}

/** Σp/Σy of the fitted model over the batch. */
function calibration(batch: FeaturizedBatch, margin: (i: Uint32Array, s: number, n: number) => number): number {
  let sumP = 0;
  let clicks = 0;
  for (let r = 0; r < batch.rows; r++) {
    sumP += sigmoid(margin(batch.indices, r * WIDTH, WIDTH));
    clicks += batch.labels[r] as number;
  }
  return sumP / clicks;
}

describe('the bias starts at initialBias', () => {
  it('first predicts the base rate, and its first steps are the FTRL-Proximal steps from there (z_b = −β·b0/α)', () => {
    const alpha = 0.1;
    const beta = 1;
    const b0 = baseRateLogOdds(4, 1000);
    expect(sigmoid(b0)).toBeCloseTo(4.5 / 1001, 12);
    const f = createFtrl({ hashBits: 4, alpha, beta, l1: 1, l2: 1, initialBias: b0 });
    expect(f.bias()).toBe(b0);
    expect(f.snapshot().biasZ).toBeCloseTo((-beta * b0) / alpha, 12);
    const idx = Uint32Array.from([3]);
    // Step 1, a click: p = sigmoid(b0), g = p − 1. The proximal term centred at b0 moves the bias by
    // −α·g/(β + |g|), the step a bias started at 0 takes from 0 (no pull back towards 0).
    const p1 = f.update(idx, 0, 1, 1);
    expect(p1).toBeCloseTo(sigmoid(b0), 15);
    const g1 = p1 - 1;
    const b1 = b0 - (alpha * g1) / (beta + Math.abs(g1));
    expect(f.bias()).toBeCloseTo(b1, 12);
    // Step 2, a non-click: the usual recurrence from that state.
    const p2 = f.update(idx, 0, 1, 0);
    const g2 = p2;
    const s1 = Math.abs(g1);
    const s2 = Math.sqrt(g1 * g1 + g2 * g2);
    const z2 = (-beta * b0) / alpha + g1 - (s1 / alpha) * b0 + g2 - ((s2 - s1) / alpha) * b1;
    expect(f.bias()).toBeCloseTo(-z2 / ((beta + s2) / alpha), 12);
  });

  it("'base-rate' makes a one-pass fit at a 0.4 % CTR calibrated where a start at 0 over-predicts", () => {
    const batch = noSignalBatch(15_000, 0.004, 7);
    const options = { hashBits: HASH_BITS, alpha: 0.1, beta: 1, l1: 1, l2: 1, passes: 1 };
    const fromZero = trainOnBatch(batch, options);
    const fromBaseRate = trainOnBatch(batch, { ...options, initialBias: 'base-rate' });
    let clicks = 0;
    for (let r = 0; r < batch.rows; r++) clicks += batch.labels[r] as number;
    expect(fromBaseRate.ftrl.options.initialBias).toBeCloseTo(baseRateLogOdds(clicks, batch.rows), 12);
    expect(calibration(batch, fromZero.ftrl.margin)).toBeGreaterThan(1.5);
    const calibrated = calibration(batch, fromBaseRate.ftrl.margin);
    expect(calibrated).toBeGreaterThan(0.8);
    expect(calibrated).toBeLessThan(1.25);
    // Scored before learned, row by row: the start at the base rate costs nothing early on.
    expect(fromBaseRate.passes[0]!.progressiveLogloss).toBeLessThan(fromZero.passes[0]!.progressiveLogloss);
  });

  it("'base-rate' counts the rows the learner sees: non-clicks at the down-sampling rate, unless sampled upstream", () => {
    const batch = noSignalBatch(4_000, 0.05, 3);
    let clicks = 0;
    for (let r = 0; r < batch.rows; r++) clicks += batch.labels[r] as number;
    const base = { hashBits: HASH_BITS, negativeSamplingRate: 0.25, initialBias: 'base-rate' as const };
    expect(trainOnBatch(batch, base).ftrl.options.initialBias).toBeCloseTo(
      baseRateLogOdds(clicks, batch.rows, 0.25),
      12,
    );
    expect(trainOnBatch(batch, { ...base, negativesSampledUpstream: true }).ftrl.options.initialBias).toBeCloseTo(
      baseRateLogOdds(clicks, batch.rows),
      12,
    );
  });

  it("a stream cannot take 'base-rate' (its rows are not known before the pass): the caller gives the number", async () => {
    const rows = [{ indices: Uint32Array.from([1]), label: 0 }];
    await expect(trainOnFeaturizedRows(rows, { hashBits: 4, initialBias: 'base-rate' })).rejects.toThrow(LearnError);
    const given = await trainOnFeaturizedRows(rows, { hashBits: 4, initialBias: -3 });
    expect(given.ftrl.options.initialBias).toBe(-3);
  });
});
