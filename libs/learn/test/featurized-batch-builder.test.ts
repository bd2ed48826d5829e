import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { FeaturizedBatchBuilder, type LabeledImpression } from '../src/index.js';

const featurizer = createFeaturizer(defaultFeatureSpec);
const row = (i: number): LabeledImpression => ({
  label: i % 7 === 0 ? 1 : 0,
  impression: { ad_id: `ad-${i % 13}`, device_type: i % 2 ? 'mobile' : 'desktop', context: { page_views: i % 5 } },
  servedAt: new Date(Date.UTC(2026, 10, 1) + i * 1000),
  trueCtr: i / 1000,
});

function built(rows: number, keepLast?: number) {
  const b = new FeaturizedBatchBuilder(featurizer, 4, keepLast === undefined ? {} : { keepLast });
  for (let i = 0; i < rows; i++) b.add(row(i));
  return { builder: b, batch: b.build() };
}

describe('FeaturizedBatchBuilder keepLast (bounded memory: the most recent rows only)', () => {
  it.each([
    [100, 37],
    [40, 37],
    [74, 37],
    [37, 37],
    [20, 37],
  ])(
    '%i rows, keepLast %i: exactly the last rows, oldest first, as a builder of those rows alone',
    (rows, keepLast) => {
      const { builder, batch } = built(rows, keepLast);
      const kept = Math.min(rows, keepLast);
      const expected = new FeaturizedBatchBuilder(featurizer);
      for (let i = rows - kept; i < rows; i++) expected.add(row(i));
      const want = expected.build();
      expect(builder.rows).toBe(kept);
      expect(builder.dropped).toBe(rows - kept);
      expect(batch.rows).toBe(kept);
      expect(Array.from(batch.indices)).toEqual(Array.from(want.indices));
      expect(Array.from(batch.labels)).toEqual(Array.from(want.labels));
      expect(Array.from(batch.trueCtr ?? [])).toEqual(Array.from(want.trueCtr ?? []));
      expect(Array.from(batch.lineage?.segments[0]?.fieldHashes ?? [])).toEqual(
        Array.from(want.lineage?.segments[0]?.fieldHashes ?? []),
      );
      expect(batch.dataTo).toEqual(want.dataTo);
      // The first row's time is known only when nothing was dropped.
      expect(batch.dataFrom).toEqual(rows > keepLast ? undefined : want.dataFrom);
    },
  );

  it('builds arrays of keepLast rows however many rows were added', () => {
    const { batch } = built(1000, 50);
    expect(batch.indices.length).toBe(50 * featurizer.maxIndices);
    expect(batch.labels.length).toBe(50);
  });

  it('hands its arrays over without a copy, and takes no row after that', () => {
    const { builder, batch } = built(8);
    expect(batch.indices.byteOffset).toBe(0);
    expect(batch.indices.buffer.byteLength).toBe(8 * featurizer.maxIndices * 4);
    expect(() => builder.add(row(8))).toThrow(/handed its rows over/);
  });
});
