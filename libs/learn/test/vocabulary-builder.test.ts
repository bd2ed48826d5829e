import { createFeaturizer, defaultFeatureSpec, fieldSeed, murmur3String, rareValueHash } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { FeaturizedBatchBuilder, refeaturizeBatch, ValueCounter } from '../src/index.js';

const featurizer = createFeaturizer(defaultFeatureSpec);
const hash = (field: string, v: string) => murmur3String(v, fieldSeed(defaultFeatureSpec, field));
const impression = (ad: string, device?: string) => ({
  ad_id: ad,
  ...(device ? { device_type: device } : {}),
  context: { page_views: 3 },
});

describe('ValueCounter', () => {
  it('keeps the categorical values seen at least k times, never the missing value nor numeric fields', () => {
    const counter = new ValueCounter(featurizer);
    for (let i = 0; i < 5; i++) counter.add(impression('ad-often', 'mobile'));
    for (let i = 0; i < 2; i++) counter.add(impression('ad-rare'));
    const v = counter.vocabulary(3);
    expect(Array.from(v.fields.ad_id ?? [])).toEqual([hash('ad_id', 'ad-often')]);
    expect(Array.from(v.fields.device_type ?? [])).toEqual([hash('device_type', 'mobile')]);
    expect(v.fields.slot_id).toHaveLength(0);
    expect(v.fields.page_views).toBeUndefined();
    expect(counter.summary(3).ad_id).toEqual({ distinct: 2, kept: 1 });
    expect(counter.vocabulary(2).fields.ad_id).toHaveLength(2);
    expect(() => counter.vocabulary(0)).toThrow(/positive integer/);
  });

  it('counts a batch from its field hashes, and refeaturizeBatch equals featurising with the vocabulary', () => {
    const rows = [
      ...Array.from({ length: 4 }, () => impression('ad-often', 'mobile')),
      impression('ad-once', 'desktop'),
    ];
    const b = new FeaturizedBatchBuilder(featurizer);
    for (const r of rows) b.add({ label: 0, impression: r });
    const batch = b.build();
    const counter = new ValueCounter(featurizer);
    counter.addBatch(batch);
    const withVocabulary = createFeaturizer(defaultFeatureSpec, { vocabulary: counter.vocabulary(2) });
    const again = refeaturizeBatch(batch, withVocabulary);
    const direct = new FeaturizedBatchBuilder(withVocabulary);
    for (const r of rows) direct.add({ label: 0, impression: r });
    expect(Array.from(again.indices)).toEqual(Array.from(direct.build().indices));
    const ad = defaultFeatureSpec.fields.findIndex((f) => f.name === 'ad_id');
    expect(again.indices[4 * again.width + ad]).toBe(rareValueHash(defaultFeatureSpec, 'ad_id') & (2 ** 20 - 1));
    expect(again.lineage?.vocabulary?.minCount).toBe(2);
    const inPlace = refeaturizeBatch(batch, withVocabulary, { inPlace: true });
    expect(inPlace.indices).toBe(batch.indices);
    expect(Array.from(inPlace.indices)).toEqual(Array.from(again.indices));
  });
});

describe('ValueCounter.rareTokenDraws (rare-token rows drawn per value)', () => {
  const ad = defaultFeatureSpec.fields.findIndex((f) => f.name === 'ad_id');
  const device = defaultFeatureSpec.fields.findIndex((f) => f.name === 'device_type');
  const pageViews = defaultFeatureSpec.fields.findIndex((f) => f.name === 'page_views');

  it('gives each kept value about the same number of rare-token rows, about rareRate of the kept rows in all', () => {
    const counter = new ValueCounter(featurizer);
    // One popular ad (900 rows), nine of 10 rows each, one of 2 rows (outside the vocabulary at k = 5).
    for (let i = 0; i < 900; i++) counter.add(impression('ad-popular'));
    for (let a = 0; a < 9; a++) for (let i = 0; i < 10; i++) counter.add(impression(`ad-${a}`));
    for (let i = 0; i < 2; i++) counter.add(impression('ad-rare'));
    const draws = counter.rareTokenDraws(5, 0.02);
    // 10 kept values, 990 kept rows: 0.02 · 990 / 10 = 1.98 rare rows per value.
    expect(draws.rate(ad, hash('ad_id', 'ad-popular')) * 900).toBeCloseTo(1.98, 6);
    expect(draws.rate(ad, hash('ad_id', 'ad-3')) * 10).toBeCloseTo(1.98, 6);
    // Impression-weighted draws would give the popular ad 18 of the 19.8 rows; here it gives 2.
    expect(draws.rate(ad, hash('ad_id', 'ad-rare'))).toBe(0);
    expect(draws.rate(ad, hash('ad_id', 'never-counted'))).toBe(0);
    // The missing value is never drawn, nor a numeric field.
    const missing = new Int32Array(featurizer.fieldCount);
    featurizer.hashFields({}, missing, 0);
    expect(draws.rate(device, missing[device] as number)).toBe(0);
    expect(draws.rate(pageViews, hash('page_views', '3'))).toBe(0);
  });

  it('caps a value at half its rows', () => {
    const counter = new ValueCounter(featurizer);
    for (let i = 0; i < 10_000; i++) counter.add(impression('ad-popular'));
    for (let i = 0; i < 5; i++) counter.add(impression('ad-small'));
    // 0.4 · 10,005 / 2 ≈ 2,001 rows per value: more than the small ad has.
    const draws = counter.rareTokenDraws(5, 0.4);
    expect(draws.rate(ad, hash('ad_id', 'ad-small'))).toBe(0.5);
    expect(draws.rate(ad, hash('ad_id', 'ad-popular'))).toBeCloseTo(0.2001, 4);
  });
});
