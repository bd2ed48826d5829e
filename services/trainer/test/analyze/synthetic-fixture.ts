import { syntheticImpressions } from '@fallback-ctr/clicklog';
import { createPrng, type LabeledImpression } from '@fallback-ctr/learn';
import { defaultFeatureSpec, type FeatureSpec } from '@fallback-ctr/model';
import { ModelEnvSchema, trainingSettings } from '../../src/config.js';
import { learnTrainOptions } from '../../src/pipeline/train-options.js';

/** Name of the pure-noise context field added for the tests: random values, independent of clicks. */
export const NOISE_FIELD = 'noise';

const ATTRIBUTION_MS = 60 * 60_000;

/**
 * Synthetic traffic from libs/clicklog's generator (known truth), labelled as the click-log reader
 * would (a click within the attribution window), plus the noise field; split by time into training
 * and holdout like the trainer does.
 */
export function syntheticSplit(opts: { days: number; perDay: number; holdoutFraction: number; seed?: number }): {
  train: LabeledImpression[];
  holdout: LabeledImpression[];
} {
  const rand = createPrng(opts.seed ?? 99);
  const rows: LabeledImpression[] = [];
  for (const s of syntheticImpressions({
    seed: opts.seed ?? 7,
    days: opts.days,
    impressionsPerDay: opts.perDay,
    start: new Date('2026-01-01T00:00:00Z'),
  })) {
    const clicked = s.clickedAt !== null && s.clickedAt.getTime() - s.servedAt.getTime() <= ATTRIBUTION_MS;
    s.impression.context = { ...s.impression.context, [NOISE_FIELD]: `n${Math.floor(rand() * 50)}` };
    rows.push({ label: clicked ? 1 : 0, impression: s.impression, trueCtr: s.trueCtr, servedAt: s.servedAt });
  }
  const cut = Math.floor(rows.length * (1 - opts.holdoutFraction));
  return { train: rows.slice(0, cut), holdout: rows.slice(cut) };
}

/**
 * libs/model's default fields plus the noise field; crosses fixed here (not the default's, which may
 * change): one true interaction (ad_id×device_type), three that are not, and one with the noise field.
 * The other two true interactions must be found by the analysis as candidates.
 */
export const specWithNoise: FeatureSpec = {
  ...defaultFeatureSpec,
  fields: [...defaultFeatureSpec.fields, { name: NOISE_FIELD, source: 'context', kind: 'categorical' }],
  crosses: [
    { fields: ['ad_id', 'device_type'] },
    { fields: ['ad_id', 'slot_id'] },
    { fields: ['campaign_id', 'placement'] },
    { fields: ['device_type', 'hour_of_day'] },
    { fields: [NOISE_FIELD, 'ad_id'] },
  ],
};

/** The trainer's default FTRL settings, read where the trainer reads them (no variable set). */
export const TRAINER_FTRL = learnTrainOptions(trainingSettings(ModelEnvSchema.parse({})));

/** Name of an ID-like context field for the tests: a client address, nearly one value per impression. */
export const IP_FIELD = 'ip';

/**
 * Adds the ID-like field to every row (in place): values drawn uniformly from `0.6 × rows` addresses,
 * so distinct values come to about half the impressions, as a raw `ip` field on real logs.
 */
export function addIpField(rows: LabeledImpression[], seed = 11): void {
  const rand = createPrng(seed);
  const addresses = Math.ceil(rows.length * 0.6);
  for (const r of rows) {
    r.impression.context = { ...r.impression.context, [IP_FIELD]: `10.${Math.floor(rand() * addresses)}` };
  }
}

/** A spec with the ID-like field added. */
export function withIpField(spec: FeatureSpec): FeatureSpec {
  return { ...spec, fields: [...spec.fields, { name: IP_FIELD, source: 'context', kind: 'categorical' }] };
}
