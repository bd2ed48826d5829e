import { describe, expect, it } from 'vitest';
import {
  createFeaturizer,
  createScorer,
  defaultFeatureSpec,
  parseArtifact,
  type RawImpression,
  recalibrate,
  serializeArtifact,
  sigmoid,
} from '../src/index.js';

const IMP: RawImpression = { ad_id: 'ad-1', slot_id: 's-9', device_type: 'mobile', context: { page_views: 3 } };

function artifact(rate: number) {
  const w = new Float32Array(2 ** 20);
  const f = createFeaturizer(defaultFeatureSpec);
  const idx = new Uint32Array(f.maxIndices);
  f.featurize(IMP, idx);
  for (const [k, i] of idx.entries()) w[i] = (w[i] as number) + 0.01 * (k + 1);
  return {
    idx,
    w,
    a: parseArtifact(
      serializeArtifact({
        featureSpec: defaultFeatureSpec,
        bias: -2,
        weights: w,
        negativeSamplingRate: rate,
        training: {
          algorithm: 't',
          hyperparameters: {},
          rows: 1,
          positives: 1,
          passes: 1,
          seed: 0,
          createdAt: '2026-01-01T00:00:00Z',
        },
      }).bytes,
    ),
  };
}

describe('scorer', () => {
  it("computes sigmoid(bias + Σ weights of the impression's indices)", () => {
    const { idx, w, a } = artifact(1);
    let z = -2;
    for (const i of idx) z += w[i] as number;
    const s = createScorer(a);
    expect(s.score(IMP)).toBeCloseTo(1 / (1 + Math.exp(-z)), 12);
    expect(s.scoreIndices(idx, idx.length)).toBe(s.score(IMP));
    // An impression with no known features scores the bias (all indices hit zero weights, barring collisions).
    expect(s.score({ ad_id: 'other' })).not.toBe(s.score(IMP));
  });

  it('re-calibrates down-sampled models with q = p / (p + (1 − p)/w)', () => {
    const plain = createScorer(artifact(1).a).score(IMP);
    const sampled = createScorer(artifact(0.1).a).score(IMP);
    expect(sampled).toBeCloseTo(plain / (plain + (1 - plain) / 0.1), 12);
    expect(recalibrate(0.5, 0.1)).toBeCloseTo(0.5 / (0.5 + 5), 15);
  });

  it('scores batches into a reused output array', () => {
    const s = createScorer(artifact(1).a);
    const raws: RawImpression[] = [IMP, {}, { ad_id: 'x' }, IMP];
    const out = new Float64Array(8).fill(-1);
    const r = s.scoreBatch(raws, out);
    expect(r).toBe(out);
    expect(Array.from(out.subarray(0, 4))).toEqual(raws.map((x) => s.score(x)));
    expect(out[4]).toBe(-1);
    expect(s.scoreBatch(raws)).toHaveLength(4);
  });

  it('has a numerically stable sigmoid', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-800)).toBeGreaterThanOrEqual(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-30)).toBeCloseTo(Math.exp(-30), 25);
  });
});
