import { FeatureSpecSchema } from '@fallback-ctr/model';
import { z } from 'zod';
import { AnalyzeOptionsSchema } from './analyze-options.js';

/** Version of the JSON report document; bumped on any incompatible change. */
export const FEATURE_REPORT_VERSION = 2;

/** An NE difference measured on the same holdout rows, with the standard error of the paired difference. */
export const NeDeltaSchema = z.object({ delta: z.number(), se: z.number().nonnegative() });
export type NeDelta = z.infer<typeof NeDeltaSchema>;

export const TopValueSchema = z.object({
  label: z.string(),
  impressions: z.number().int().nonnegative(),
  share: z.number().min(0).max(1),
  clicks: z.number().int().nonnegative(),
  ctr: z.number().min(0).max(1),
  /** 95% Wilson interval of the CTR. */
  ctrLow: z.number().min(0).max(1),
  ctrHigh: z.number().min(0).max(1),
});

const SlotProfileShape = {
  cardinality: z.number().int().nonnegative(),
  cardinalityIsLowerBound: z.boolean(),
  collisionRate: z.number().min(0).max(1),
  trafficCollisionRate: z.number().min(0).max(1),
};

export const FieldReportSchema = z.object({
  name: z.string(),
  source: z.enum(['column', 'context']),
  kind: z.enum(['categorical', 'log1p', 'buckets']),
  coverage: z.number().min(0).max(1),
  ...SlotProfileShape,
  /** Distinct values (not counting "missing") / impressions that carry the field. */
  distinctShare: z.number().min(0),
  /** Categorical with distinct values close to its impressions (an id, an ip): flagged whatever the advice. */
  idLike: z.boolean(),
  topValues: z.array(TopValueSchema),
  /** NE on the holdout of a model with this field alone. */
  singleFieldNe: z.number(),
  /** NE(spec without the field and its crosses) − NE(spec): positive = the field earns its keep. */
  dropNeChange: NeDeltaSchema,
  /** Change of scorer ns per impression when the field (and its crosses) is dropped: negative = faster. */
  dropCostNs: z.number(),
  /** Crosses of the spec that go with the field when it is dropped. */
  crossesDroppedWith: z.array(z.string()),
  recommendation: z.enum(['keep', 'drop']),
  /** Kept or added crosses that need the field (it is kept for them even if its own gain is small). */
  requiredBy: z.array(z.string()),
});
export type FieldReport = z.infer<typeof FieldReportSchema>;

export const CrossReportSchema = z.object({
  name: z.string(),
  fields: z.array(z.string()).min(2),
  /** spec: a cross of the analysed spec; candidate: a pair the spec does not cross, picked by the screen. */
  origin: z.enum(['spec', 'candidate']),
  /** NE(without the cross) − NE(with it), the rest of the spec unchanged: positive = it helps. */
  neGain: NeDeltaSchema,
  /** Scorer ns per impression it costs (with − without). */
  costNs: z.number(),
  /** Profile of a spec cross over the whole training part (absent for candidates). */
  profile: z.object(SlotProfileShape).optional(),
  /**
   * The field that determines the other one in the training sample (each of its values goes with one
   * value of the other), or null: a nested cross carries no information beyond that field.
   */
  nestedIn: z.string().nullable(),
  /** 1 = the largest NE gain. */
  rank: z.number().int().positive(),
  /** skip: a candidate not worth adding. */
  recommendation: z.enum(['keep', 'drop', 'add', 'skip']),
});
export type CrossReport = z.infer<typeof CrossReportSchema>;

export const RecommendationSchema = z.object({
  rank: z.number().int().positive(),
  action: z.enum(['keep', 'drop', 'add']),
  target: z.enum(['field', 'cross']),
  name: z.string(),
  /** The change the numbers describe: removing an item of the spec, or adding a candidate cross. */
  change: z.enum(['remove', 'add']),
  /** Expected NE change of that change (negative = better model). */
  neChange: z.number(),
  neChangeSe: z.number().nonnegative(),
  /** Expected scorer ns per impression change of that change (negative = faster serving). */
  costNs: z.number(),
  reason: z.string(),
});
export type Recommendation = z.infer<typeof RecommendationSchema>;

export const FeatureReportSchema = z.object({
  reportVersion: z.literal(FEATURE_REPORT_VERSION),
  generatedAt: z.iso.datetime({ offset: true }),
  /** The time-split window analysed, when read from the click log. */
  window: z
    .object({
      trainFrom: z.iso.datetime({ offset: true }),
      holdoutFrom: z.iso.datetime({ offset: true }),
      holdoutTo: z.iso.datetime({ offset: true }),
    })
    .nullable(),
  settings: AnalyzeOptionsSchema,
  training: z.object({
    alpha: z.number(),
    beta: z.number(),
    l1: z.number(),
    l2: z.number(),
    passes: z.number().int(),
    negativeSamplingRate: z.number(),
  }),
  spec: FeatureSpecSchema,
  summary: z.object({
    trainRows: z.number().int().nonnegative(),
    trainClicks: z.number().int().nonnegative(),
    trainSampleRows: z.number().int().nonnegative(),
    holdoutRows: z.number().int().nonnegative(),
    holdoutSampleRows: z.number().int().nonnegative(),
    holdoutBaseRate: z.number(),
    fullNe: z.number(),
    fullAuc: z.number(),
    fullCalibration: z.number(),
    /** Clicks in the training and holdout samples: how much there was to learn from and to measure on. */
    trainSampleClicks: z.number().int().nonnegative(),
    holdoutSampleClicks: z.number().int().nonnegative(),
    /** NE of the training sample's CTR predicted for every holdout row (above 1 when the two CTRs differ). */
    constantNe: z.number(),
    /** NE(full) − NE(constant) on the same holdout rows: clearly negative when the full model learned something. */
    fullVsConstant: NeDeltaSchema,
    /** Said plainly when the full model is no better than the constant or its NE is above 1; else null. */
    caveat: z.string().nullable(),
    /** NE of the generator's true click probabilities on the holdout sample (synthetic data only). */
    oracleNe: z.number().nullable(),
    /** Scorer ns per impression of the full spec (fastest timing round). */
    scorerNsPerImpression: z.number(),
    distinctFeatures: z.number().int().nonnegative(),
    bucketsUsed: z.number().int().nonnegative(),
    hashBuckets: z.number().int().positive(),
    modelsTrained: z.number().int().nonnegative(),
    elapsedMs: z.number().nonnegative(),
  }),
  fields: z.array(FieldReportSchema),
  crosses: z.array(CrossReportSchema),
  /** Every drop and add of the recommendations made together, trained and timed as one spec. */
  allRecommendationsApplied: z.object({
    /**
     * apply: the measured combination holds up; withheld: together the changes lose more NE than the
     * bar an item must clear to be kept (its own measurement shows it worse), so it is not recommended;
     * no-change: nothing to drop or add.
     */
    verdict: z.enum(['apply', 'withheld', 'no-change']),
    /** The verdict in a sentence. */
    verdictReason: z.string(),
    /** null when every field would go (the "model" is then the training CTR). */
    spec: FeatureSpecSchema.nullable(),
    droppedFields: z.array(z.string()),
    /** Spec crosses not in the new spec (recommended drops, and crosses of dropped fields). */
    droppedCrosses: z.array(z.string()),
    addedCrosses: z.array(z.string()),
    /** Holdout NE of the new spec, and its change from the full spec (negative = better). */
    ne: z.number(),
    neChange: NeDeltaSchema,
    /** Scorer ns per impression change (negative = faster). */
    costNs: z.number(),
  }),
  /** Every pair the screen looked at, best first; the `measured` ones are the candidate crosses above. */
  screenedPairs: z.array(
    z.object({
      name: z.string(),
      fields: z.array(z.string()).length(2),
      /** Score-test estimate of the NE gain of adding the pair, before any training. */
      screenNeGain: z.number(),
      measured: z.boolean(),
    }),
  ),
  recommendations: z.array(RecommendationSchema),
});
export type FeatureReport = z.infer<typeof FeatureReportSchema>;
