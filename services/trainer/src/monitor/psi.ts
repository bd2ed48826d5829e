/** Share given to a value absent on one side, so PSI stays finite (a common choice: 0.0001). */
const EPSILON = 1e-4;

/** Counts of a field's values in one window; `null` counts impressions without the field. */
export type ValueCounts = ReadonlyMap<string | null, number>;

/**
 * Population stability index Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) between the shares of each value in a reference
 * window (e) and a recent one (a), over the reference's `maxValues` most frequent values plus "other"
 * and "missing" buckets. Rule of thumb: < 0.1 stable, 0.1–0.25 moving, > 0.25 shifted.
 */
export function psi(reference: ValueCounts, recent: ValueCounts, maxValues = 20): number {
  const top = [...reference.entries()]
    .filter(([value]) => value !== null)
    .sort((a, b) => b[1] - a[1])
    .slice(0, maxValues)
    .map(([value]) => value);
  const bucketOf = (value: string | null) =>
    value === null ? '\u0000missing' : top.includes(value) ? value : '\u0000other';
  const shares = (counts: ValueCounts) => {
    const buckets = new Map<string, number>();
    let total = 0;
    for (const [value, count] of counts) {
      const key = bucketOf(value);
      buckets.set(key, (buckets.get(key) ?? 0) + count);
      total += count;
    }
    return { buckets, total };
  };
  const e = shares(reference);
  const a = shares(recent);
  if (e.total === 0 || a.total === 0) return Number.NaN;
  let sum = 0;
  for (const key of new Set([...e.buckets.keys(), ...a.buckets.keys()])) {
    const pe = Math.max(EPSILON, (e.buckets.get(key) ?? 0) / e.total);
    const pa = Math.max(EPSILON, (a.buckets.get(key) ?? 0) / a.total);
    sum += (pa - pe) * Math.log(pa / pe);
  }
  return sum;
}
