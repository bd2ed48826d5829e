import { RAW_COLUMNS } from '@fallback-ctr/model';
import { z } from 'zod';

/** Context (jsonb) fields the generator fills; libs/model's default feature spec uses these names. */
export const SYNTHETIC_CONTEXT_FIELDS = ['hour_of_day', 'user_age_days', 'page_views', 'site_category'] as const;

/** Every field a broken-feature degrade can target: the top-level columns and the context fields. */
export const SYNTHETIC_FIELDS = [...RAW_COLUMNS, ...SYNTHETIC_CONTEXT_FIELDS] as const;
export type SyntheticField = (typeof SYNTHETIC_FIELDS)[number];

export const DegradeSchema = z.discriminatedUnion('mode', [
  z.object({
    /** Labels are decoupled from the features (each click drawn with another impression's probability). */
    mode: z.literal('shuffled-labels'),
    /** First day (0-based) that is degraded. */
    fromDay: z.number().int().min(0).default(0),
  }),
  z.object({
    /** One field is written wrongly while clicks still follow the true value. */
    mode: z.literal('broken-feature'),
    field: z.enum(SYNTHETIC_FIELDS),
    /** scrambled: a random value of the field's vocabulary; constant: one value; missing: absent. */
    kind: z.enum(['scrambled', 'constant', 'missing']).default('scrambled'),
    fromDay: z.number().int().min(0).default(0),
  }),
]);
export type Degrade = z.infer<typeof DegradeSchema>;

export const CardinalitySchema = z.object({
  ads: z.number().int().min(1).default(3_000),
  campaigns: z.number().int().min(1).default(400),
  advertisers: z.number().int().min(1).default(120),
  slots: z.number().int().min(1).default(2_000),
});

/**
 * New entities appearing every day, as in real traffic (cold start): from day 1 on, each day brings
 * `adsPerDay` new ads; each belongs to a new campaign with probability `newCampaignShare` (else to an
 * existing one), and a new campaign to a new advertiser with probability `newAdvertiserShare`. Their
 * true effects come from the same priors as the original entities'. A share `freshTraffic` of each
 * day's impressions goes to the ads introduced that day or the day before (uniformly), the rest as
 * before. All zeros (the default) leaves the traffic exactly as without churn.
 */
export const ChurnSchema = z.object({
  adsPerDay: z.number().int().min(0).max(100_000).default(0),
  newCampaignShare: z.number().min(0).max(1).default(0.3),
  newAdvertiserShare: z.number().min(0).max(1).default(0.3),
  freshTraffic: z.number().min(0).max(0.5).default(0.05),
});
export type Churn = z.infer<typeof ChurnSchema>;

/**
 * A sudden change of the world from one day on, the kind a live monitor must catch: every true click
 * probability is multiplied by `ctrFactor` (a model trained before then over- or under-predicts), and
 * with `deviceMix` the traffic moves towards the first device type (device_type and os drift). The
 * same random draws are used as without the shift, so the rows before `fromDay` are unchanged.
 */
export const ShiftSchema = z.object({
  fromDay: z.number().int().min(0),
  ctrFactor: z.number().positive().max(10).default(1),
  deviceMix: z.boolean().default(false),
});
export type Shift = z.infer<typeof ShiftSchema>;

export const SyntheticTrafficOptionsSchema = z.object({
  /** Same seed and options, same rows (ids, values, clicks, truth). */
  seed: z.union([z.number().int(), z.string().min(1)]).default(1),
  days: z.number().int().min(1).max(366).default(7),
  /**
   * Generate days [firstDay, firstDay + days) of the same traffic (same world, drift and ids), so a
   * later call can append the next day to what an earlier call wrote. Day 0 is `start`.
   */
  firstDay: z.number().int().min(0).max(3660).default(0),
  impressionsPerDay: z.number().int().min(1).max(50_000_000).default(100_000),
  /** Day 0, truncated to UTC midnight. Default: `firstDay + days` days before today (UTC). */
  start: z.date().optional(),
  /**
   * The log as it stands at this instant: impressions served later are not written, clicks that
   * arrive later are not (yet) recorded. Without `start`, the last day is the one holding `until`,
   * so the most recent hours before `until` always have traffic (e.g. a holdout ending "now").
   */
  until: z.date().optional(),
  /** Mean true click probability of the first day (the bias is calibrated to it). */
  baseCtr: z.number().min(0.005).max(0.03).default(0.015),
  /** Day-to-day random walk of the true effects, as a fraction of their spread (0 = stationary). */
  drift: z.number().min(0).max(2).default(0),
  degrade: DegradeSchema.optional(),
  shift: ShiftSchema.optional(),
  /** Click delay after the impression: log-normal with this median and log-space sigma. */
  clickDelay: z
    .object({ medianSeconds: z.number().positive().default(90), sigma: z.number().positive().default(1.5) })
    .default({ medianSeconds: 90, sigma: 1.5 }),
  cardinality: CardinalitySchema.default({ ads: 3_000, campaigns: 400, advertisers: 120, slots: 2_000 }),
  churn: ChurnSchema.default({ adsPerDay: 0, newCampaignShare: 0.3, newAdvertiserShare: 0.3, freshTraffic: 0.05 }),
});
export type SyntheticTrafficOptionsInput = z.input<typeof SyntheticTrafficOptionsSchema>;
export type SyntheticTrafficOptions = z.output<typeof SyntheticTrafficOptionsSchema>;
