import type { LabeledImpression } from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { FieldProfiler } from '../../src/analyze/field-profile.js';

function spec(hashBits: number): FeatureSpec {
  return {
    version: 1,
    hashBits,
    hashSeed: 0,
    fields: [
      { name: 'ad_id', source: 'column', kind: 'categorical' },
      { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 10] },
    ],
    crosses: [{ fields: ['ad_id', 'page_views'] }],
  };
}

function rows(): LabeledImpression[] {
  const out: LabeledImpression[] = [];
  // ad_0 ×60 (clicks 6), ad_1 ×30 (clicks 0), ad_2..ad_9 ×1 each; 10 rows without ad_id.
  for (let i = 0; i < 60; i++)
    out.push({ label: i < 6 ? 1 : 0, impression: { ad_id: 'ad_0', context: { page_views: i % 3 } } });
  for (let i = 0; i < 30; i++) out.push({ label: 0, impression: { ad_id: 'ad_1', context: { page_views: 20 } } });
  for (let i = 2; i < 10; i++) out.push({ label: 1, impression: { ad_id: `ad_${i}`, context: { page_views: 5 } } });
  for (let i = 0; i < 10; i++) out.push({ label: 0, impression: { context: { page_views: '' } } });
  return out;
}

describe('FieldProfiler', () => {
  const profile = (hashBits: number) => {
    const p = new FieldProfiler(spec(hashBits), { topValues: 3, maxTrackedValues: 1_000 });
    for (const r of rows()) p.add(r);
    return p.result();
  };

  it('counts coverage, cardinality (missing is a value) and top values with CTR and Wilson interval', () => {
    const r = profile(20);
    expect(r.rows).toBe(108);
    expect(r.clicks).toBe(14);
    const ad = r.fields[0]!;
    expect(ad.coverage).toBeCloseTo(98 / 108);
    expect(ad.cardinality).toBe(11);
    expect(ad.topValues.map((v) => [v.label, v.impressions, v.clicks])).toEqual([
      ['ad_0', 60, 6],
      ['ad_1', 30, 0],
      ['(missing)', 10, 0],
    ]);
    const top = ad.topValues[0]!;
    expect(top.ctr).toBeCloseTo(0.1);
    expect(top.share).toBeCloseTo(60 / 108);
    expect(top.ctrLow).toBeLessThan(0.1);
    expect(top.ctrHigh).toBeGreaterThan(0.1);
    const pv = r.fields[1]!;
    expect(pv.coverage).toBeCloseTo(98 / 108);
    // buckets: <1 (page_views 0: 20 rows), [1,10) (1, 2: 40 rows, 5: 8 rows), ≥10 (30 rows), missing (10 rows)
    expect(pv.cardinality).toBe(4);
    expect(pv.topValues.map((v) => [v.label, v.impressions])).toEqual([
      ['[1, 10)', 48],
      ['≥ 10', 30],
      ['< 1', 20],
    ]);
  });

  it('counts the distinct values of a cross', () => {
    const r = profile(20);
    // ad_0×{<1, [1,10)}, ad_1×≥10, ad_2..9×[1,10), missing×missing
    expect(r.crosses[0]!.cardinality).toBe(2 + 1 + 8 + 1);
    expect(r.crosses[0]!.name).toBe('ad_id×page_views');
  });

  it('measures hash collisions against every other feature value of the spec', () => {
    const tight = profile(4);
    // 11 + 4 + 12 = 27 distinct features in 16 buckets: collisions are certain.
    expect(tight.distinctFeatures).toBe(27);
    expect(tight.bucketsUsed).toBeLessThanOrEqual(16);
    // The same count, independently: occupancy of the buckets of every distinct feature.
    const f = createFeaturizer(spec(4));
    const buf = new Uint32Array(3);
    const seen = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
    for (const r of rows()) {
      f.featurize(r.impression, buf);
      const ad = r.impression.ad_id ?? '';
      const pv = String(r.impression.context?.page_views);
      const keys = [ad, pv === '' ? '' : String(Number(pv) < 1 ? 0 : Number(pv) < 10 ? 1 : 2), ''];
      keys[2] = `${keys[0]}|${keys[1]}`;
      for (const [s, k] of keys.entries()) seen[s]!.set(k, buf[s]!);
    }
    const occupancy = new Map<number, number>();
    for (const m of seen) for (const b of m.values()) occupancy.set(b, (occupancy.get(b) ?? 0) + 1);
    const adCollided = [...seen[0]!.values()].filter((b) => occupancy.get(b)! > 1).length;
    expect(tight.fields[0]!.collisionRate).toBeCloseTo(adCollided / 11);
    expect(tight.fields[0]!.collisionRate).toBeGreaterThan(0);

    const roomy = profile(24);
    expect(roomy.fields[0]!.collisionRate).toBe(0);
    expect(roomy.crosses[0]!.trafficCollisionRate).toBe(0);
  });

  it('reports a lower bound once more values than maxTrackedValues are seen', () => {
    const p = new FieldProfiler(spec(20), { topValues: 2, maxTrackedValues: 1_000 });
    for (let i = 0; i < 1_500; i++) p.add({ label: 0, impression: { ad_id: `a${i}`, context: { page_views: 1 } } });
    const ad = p.result().fields[0]!;
    expect(ad.cardinality).toBe(1_000);
    expect(ad.cardinalityIsLowerBound).toBe(true);
  });
});
