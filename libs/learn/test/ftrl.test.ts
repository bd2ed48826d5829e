import { createFeaturizer, defaultFeatureSpec, type RawImpression } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  createFtrl,
  type FeaturizedBatch,
  featurizeRows,
  type LabeledImpression,
  LearnError,
  trainOnBatch,
  trainOnFeaturizedRows,
  trainOnRows,
} from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

function batchOf(rows: Array<[number[], number]>, width: number): FeaturizedBatch {
  return {
    rows: rows.length,
    width,
    indices: Uint32Array.from(rows.flatMap(([i]) => i)),
    labels: Uint8Array.from(rows.map(([, y]) => y)),
  };
}

describe('FTRL-Proximal', () => {
  it('follows the per-coordinate update rule of McMahan et al. (hand-computed first steps)', () => {
    const alpha = 0.1;
    const beta = 1;
    const l1 = 0.05;
    const l2 = 0.5;
    const f = createFtrl({ hashBits: 4, alpha, beta, l1, l2 });
    const idx = Uint32Array.from([3, 7]);
    // Step 1: all weights 0 → p = 0.5, y = 1 → g = −0.5 on both coordinates and the bias.
    expect(f.update(idx, 0, 2, 1)).toBe(0.5);
    const g = -0.5;
    const n1 = g * g;
    const sigma = Math.sqrt(n1) / alpha;
    const z1 = g - sigma * 0;
    const w1 = -(z1 + l1) / ((beta + Math.sqrt(n1)) / alpha + l2);
    expect(f.weight(3)).toBeCloseTo(w1, 15);
    expect(f.weight(7)).toBeCloseTo(w1, 15);
    expect(f.weight(0)).toBe(0);
    const b1 = -z1 / ((beta + Math.sqrt(n1)) / alpha);
    expect(f.bias()).toBeCloseTo(b1, 15);
    // Step 2: coordinate 3 only, y = 0.
    const m = b1 + w1;
    const p = 1 / (1 + Math.exp(-m));
    expect(f.update(Uint32Array.from([3]), 0, 1, 0)).toBeCloseTo(p, 15);
    const g2 = p;
    const n2 = n1 + g2 * g2;
    const z2 = z1 + g2 - ((Math.sqrt(n2) - Math.sqrt(n1)) / alpha) * w1;
    const w2 = Math.abs(z2) <= l1 ? 0 : -(z2 - Math.sign(z2) * l1) / ((beta + Math.sqrt(n2)) / alpha + l2);
    expect(f.weight(3)).toBeCloseTo(w2, 15);
    expect(f.weight(7)).toBeCloseTo(w1, 15);
    const s = f.snapshot();
    expect(s.z[3]).toBeCloseTo(z2, 15);
    expect(s.sqrtN[3]).toBeCloseTo(Math.sqrt(n2), 15);
  });

  it('L1 zeroes weights whose |z| stays below λ1 (sparse models), and the bias is never L1-clipped', () => {
    const f = createFtrl({ hashBits: 4, alpha: 0.1, l1: 10, l2: 0 });
    const idx = Uint32Array.from([1, 2]);
    for (let i = 0; i < 5; i++) f.update(idx, 0, 2, i % 2);
    expect(f.weight(1)).toBe(0);
    expect(f.weight(2)).toBe(0);
    for (let i = 0; i < 5; i++) f.update(idx, 0, 2, 1);
    expect(f.bias()).toBeGreaterThan(0);
  });

  it('rejects bad options, labels and indices outside the hash space', () => {
    expect(() => createFtrl({ hashBits: 4, alpha: -1 })).toThrow(LearnError);
    expect(() => trainOnBatch(batchOf([[[1], 2]], 1), { hashBits: 4 })).toThrow(/label must be 0 or 1/);
    expect(() => trainOnBatch(batchOf([[[16], 1]], 1), { hashBits: 4 })).toThrow(/outside the model's hash space/);
    expect(() => trainOnBatch(batchOf([[[1], 1]], 1), { hashBits: 4, negativeSamplingRate: 0 })).toThrow(
      /negativeSamplingRate/,
    );
  });
});

describe('training', () => {
  const featurizer = createFeaturizer(defaultFeatureSpec);
  const rows = Array.from(syntheticRows({ rows: 20_000, seed: 5 }));

  it('learns from rows and from the same rows pre-featurised identically, deterministically per seed', async () => {
    const batch = await featurizeRows(rows, featurizer);
    const opts = { hashBits: 20, passes: 2, negativeSamplingRate: 0.3, seed: 42 };
    const a = trainOnBatch(batch, opts);
    const b = await trainOnRows(() => rows, featurizer, opts);
    const c = trainOnBatch(batch, opts);
    async function* featurized() {
      for (let r = 0; r < batch.rows; r++) {
        yield {
          indices: batch.indices.subarray(r * batch.width, (r + 1) * batch.width),
          label: batch.labels[r] as number,
        };
      }
    }
    const e = await trainOnFeaturizedRows(featurized, opts);
    expect(Buffer.from(e.ftrl.weights().buffer).equals(Buffer.from(a.ftrl.weights().buffer))).toBe(true);
    expect(e.passes).toEqual(a.passes);
    await expect(trainOnFeaturizedRows([{ indices: Uint32Array.of(2 ** 20), label: 1 }], opts)).rejects.toMatchObject({
      code: 'LEARN_INPUT_INVALID',
    });
    expect(Buffer.from(b.ftrl.weights().buffer).equals(Buffer.from(a.ftrl.weights().buffer))).toBe(true);
    expect(a.ftrl.weights().some((v) => v !== 0)).toBe(true);
    expect(b.ftrl.bias()).toBe(a.ftrl.bias());
    expect(c.passes).toEqual(a.passes);
    const d = trainOnBatch(batch, { ...opts, seed: 43 });
    expect(d.passes[0]?.rows).not.toBe(a.passes[0]?.rows);
    expect(a.passes).toHaveLength(2);
    // Down-sampling keeps every click and about 30% of the rest.
    const clicks = batch.labels.reduce((s, y) => s + y, 0);
    expect(a.passes[0]?.positives).toBe(clicks);
    const keptNeg = (a.passes[0]?.rows ?? 0) - clicks;
    expect(keptNeg / (batch.rows - clicks)).toBeGreaterThan(0.28);
    expect(keptNeg / (batch.rows - clicks)).toBeLessThan(0.32);
  });

  it('trains from an async stream and refuses several passes over a one-shot stream', async () => {
    async function* stream(): AsyncGenerator<LabeledImpression> {
      for (const r of rows.slice(0, 2000)) yield { ...r, servedAt: new Date(Date.UTC(2026, 0, 1) + r.label) };
    }
    const res = await trainOnRows(stream(), featurizer, { hashBits: 20 });
    expect(res.passes[0]?.rows).toBe(2000);
    expect(res.dataFrom).toBeInstanceOf(Date);
    expect(res.passes[0]?.progressiveLogloss).toBeGreaterThan(0);
    await expect(trainOnRows(stream(), featurizer, { hashBits: 20, passes: 2 })).rejects.toMatchObject({
      code: 'LEARN_SOURCE_NOT_REPEATABLE',
    });
    await expect(trainOnRows(rows, featurizer, { hashBits: 18 })).rejects.toMatchObject({
      code: 'LEARN_OPTIONS_INVALID',
    });
    const bad = [{ label: 3, impression: {} as RawImpression }];
    await expect(trainOnRows(bad, featurizer, { hashBits: 20 })).rejects.toMatchObject({ code: 'LEARN_INPUT_INVALID' });
  });

  it('improves on the base rate: progressive logloss falls from pass 1 to pass 2', async () => {
    const batch = await featurizeRows(rows, featurizer);
    const res = trainOnBatch(batch, { hashBits: 20, passes: 2 });
    const [p1, p2] = res.passes;
    expect(p2?.progressiveLogloss).toBeLessThan(p1?.progressiveLogloss ?? 0);
  });
});
