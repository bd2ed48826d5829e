import { createPrng, FeaturizedBatchBuilder } from '@fallback-ctr/learn';
import { categoricalFields, createFeaturizer, type FeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { screenCrosses } from '../../src/analyze/pair-screen.js';

describe('screenCrosses', () => {
  it('finds a pure interaction and gives an unrelated pair about nothing', () => {
    const spec: FeatureSpec = {
      version: 1,
      hashBits: 18,
      hashSeed: 0,
      fields: categoricalFields('context', ['a', 'b', 'c']),
      crosses: [{ fields: ['a', 'b'] }, { fields: ['a', 'c'] }],
    };
    const rand = createPrng(11);
    const builder = new FeaturizedBatchBuilder(createFeaturizer(spec));
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const a = Math.floor(rand() * 6);
      const b = Math.floor(rand() * 6);
      const c = Math.floor(rand() * 6);
      // CTR 2% or 8% depending on whether a and b agree in parity: no main effect of a or b alone.
      const p = (a + b) % 2 === 0 ? 0.08 : 0.02;
      builder.add({ label: rand() < p ? 1 : 0, impression: { context: { a, b, c } } });
    }
    const batch = builder.build();
    let clicks = 0;
    for (let r = 0; r < n; r++) clicks += batch.labels[r]!;
    const base = clicks / n;
    const predictions = new Float64Array(n).fill(base);
    const h = -(base * Math.log(base) + (1 - base) * Math.log(1 - base));
    const [ab, ac] = screenCrosses(batch, [3, 4], predictions, 2 ** 18, h);
    // The Bayes gain of knowing the parity: H(p̄) − mean H(p | parity), in NE units.
    const hb = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
    const oracle = (h - (hb(0.08) + hb(0.02)) / 2) / h;
    expect(ab).toBeGreaterThan(oracle * 0.5);
    expect(ab).toBeLessThan(oracle * 1.5);
    expect(Math.abs(ac!)).toBeLessThan(oracle * 0.1);
  });
});
