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
  });
});
