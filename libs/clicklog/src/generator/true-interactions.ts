/** A pair of fields whose joint value moves the true click probability beyond their separate effects. */
export interface TrueInteraction {
  /** Field names as in RawImpression: top-level columns, or context field names. */
  fields: readonly [string, string];
  /** Spread (standard deviation, in logit units) of the per-pair effects. */
  strength: number;
}

/** The generator's true interactions: only feature crosses of these pairs can capture them. */
export const TRUE_INTERACTIONS: readonly TrueInteraction[] = [
  { fields: ['ad_id', 'device_type'], strength: 0.45 },
  { fields: ['placement', 'hour_of_day'], strength: 0.4 },
  { fields: ['site_category', 'country'], strength: 0.45 },
];

/** Numeric context fields and the transform the truth depends on (for feature-spec authors). */
export const TRUE_NUMERIC_EFFECTS = [
  {
    field: 'user_age_days',
    transform: 'log1p',
    shape: 'non-monotone in log1p(days): new users click more, a dip at ~1 month, a small rise after ~1 year',
  },
  {
    field: 'page_views',
    transform: 'buckets',
    /** The truth is a step function with steps exactly at these lower bounds: 0 | 1-2 | 3-10 | 11-50 | 51+. */
    boundaries: [1, 3, 11, 51],
    shape: 'peaks at 3-10 page views, low at 0 and beyond 50',
  },
] as const;
