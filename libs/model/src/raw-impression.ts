import { z } from 'zod';

/** A raw field value as it arrives from the click log or from POST /predict. */
export const RawValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type RawValue = z.infer<typeof RawValueSchema>;

/** The top-level columns of an impression (the click log stores them as columns). */
export const RAW_COLUMNS = [
  'slot_id',
  'placement',
  'ad_id',
  'campaign_id',
  'advertiser_id',
  'device_type',
  'os',
  'country',
] as const;
export type RawColumn = (typeof RAW_COLUMNS)[number];

/**
 * The one impression shape shared by the click-log reader, featurisation and POST /predict.
 * Every field is optional: a missing field is featurised as that field's "missing" value, so
 * scoring never fails on it. Unknown top-level keys are stripped by `parse` (and ignored by
 * the featurizer in any case).
 */
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
