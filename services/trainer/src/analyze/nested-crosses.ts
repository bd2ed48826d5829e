import type { FeaturizedBatch } from '@fallback-ctr/learn';
import type { FeatureSpec } from '@fallback-ctr/model';

/**
 * A 2-field cross with no more distinct values in the sample than one of its fields (ad_id ×
 * campaign_id when an ad belongs to one campaign) only repeats that field. Returns, for a cross and
 * its column in `batch`, the field that determines the other, or null.
 */
export function nestedCrossDetector(
  spec: FeatureSpec,
  batch: FeaturizedBatch,
): (fields: readonly string[], column: number) => string | null {
  const distinct = new Map<number, number>();
  const distinctOf = (column: number): number => {
    let n = distinct.get(column);
    if (n === undefined) {
      const seen = new Set<number>();
      for (let r = 0, off = column; r < batch.rows; r++, off += batch.width) seen.add(batch.indices[off] as number);
      n = seen.size;
      distinct.set(column, n);
    }
    return n;
  };
  const fieldIndex = new Map(spec.fields.map((f, k) => [f.name, k]));
  return (fields, column) => {
    if (fields.length !== 2) return null;
    const [a, b] = fields as [string, string];
    const da = distinctOf(fieldIndex.get(a) as number);
    const db = distinctOf(fieldIndex.get(b) as number);
    const finer = da >= db ? a : b;
    return distinctOf(column) <= Math.max(da, db) * 1.02 + 1 ? finer : null;
  };
}
