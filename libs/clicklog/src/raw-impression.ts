import { z } from 'zod';

/**
 * The cross-package raw impression (fixed in the contracts). libs/model owns the canonical copy;
 * clicklog keeps a structurally identical one so it need not depend on model (dependency rule).
 */
export const RawValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type RawValue = z.infer<typeof RawValueSchema>;

/** Top-level columns of the `impressions` table, in table order. */
export const IMPRESSION_COLUMNS = [
  'slot_id',
  'placement',
  'ad_id',
  'campaign_id',
  'advertiser_id',
  'device_type',
  'os',
  'country',
] as const;
export type ImpressionColumn = (typeof IMPRESSION_COLUMNS)[number];

export const RawImpressionSchema = z.object({
  slot_id: z.string().optional(),
  placement: z.string().optional(),
  ad_id: z.string().optional(),
  campaign_id: z.string().optional(),
  advertiser_id: z.string().optional(),
  device_type: z.string().optional(),
  os: z.string().optional(),
  country: z.string().optional(),
  context: z.record(z.string(), RawValueSchema).optional(),
});
export type RawImpression = z.infer<typeof RawImpressionSchema>;
