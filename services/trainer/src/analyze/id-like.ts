/**
 * A categorical field is ID-like when its distinct values are at least this share of the impressions
 * that carry it (each value seen 4 times or fewer on average), as a raw `ip` field was on real logs
 * (31k distinct values in 80k impressions).
 */
export const ID_LIKE_DISTINCT_SHARE = 0.25;
/** ... and it has at least this many distinct values: a short list of values in a small sample is no ID. */
export const ID_LIKE_MIN_VALUES = 1_000;

export interface DistinctValues {
  /** Distinct values that are not "missing". */
  values: number;
  /** Impressions that carry the field. */
  impressions: number;
  /** values / impressions (0 when no impression carries the field). */
  share: number;
  idLike: boolean;
}

/** Distinct values of a field against the impressions carrying it; `cardinality` counts "missing" as one. */
export function distinctValues(
  kind: string,
  profile: { cardinality: number; coverage: number },
  rows: number,
): DistinctValues {
  const impressions = Math.round(rows * profile.coverage);
  const values = profile.coverage < 1 ? Math.max(0, profile.cardinality - 1) : profile.cardinality;
  const share = impressions > 0 ? values / impressions : 0;
  const idLike = kind === 'categorical' && values >= ID_LIKE_MIN_VALUES && share >= ID_LIKE_DISTINCT_SHARE;
  return { values, impressions, share, idLike };
}

/** What the report says of an ID-like field, whatever it recommends for it. */
export function idLikeNote(d: DistinctValues): string {
  const perValue = d.values > 0 ? d.impressions / d.values : 0;
  return (
    `ID-like: ${d.values.toLocaleString('en-US')} distinct values in ${d.impressions.toLocaleString('en-US')} impressions ` +
    `(${(d.share * 100).toFixed(0)}%, each value seen ${perValue.toFixed(1)} times on average), so a weight per value learns ` +
    `little and its measured gain is mostly memorised; consider a coarser field derived from it (a prefix, a range, ` +
    `a count bucket) or TRAIN_MIN_VALUE_COUNT, which trains rare values as one token`
  );
}
