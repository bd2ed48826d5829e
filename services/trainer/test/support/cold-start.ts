import type { SyntheticImpression } from '@fallback-ctr/clicklog';
import {
  binaryEntropy,
  clipProbability,
  FeaturizedBatchBuilder,
  refeaturizeBatch,
  toArtifactInput,
  trainOnBatch,
  ValueCounter,
} from '@fallback-ctr/learn';
import {
  createFeaturizer,
  createScorer,
  defaultFeatureSpec,
  parseArtifact,
  type RawImpression,
  serializeArtifact,
} from '@fallback-ctr/model';

export interface ColdStartSetting {
  /** k: values seen fewer times in training become the rare token; 0 = no vocabulary (before). */
  minCount: number;
  rareRate: number;
  missingRate?: number;
  /** Rare-token rows drawn per value (ValueCounter.rareTokenDraws, as the trainer does) instead of per impression. */
  perValue?: boolean;
}

export interface ColdStartReport {
  /** Σp / Σy over holdout impressions whose ad was never seen in training. */
  newAdCalibration: number;
  /** Σp / Σ true CTR over the same impressions: the same bias without the label noise. */
  newAdTruthRatio: number;
  newAdRows: number;
  newAdClicks: number;
  /** Score of an impression whose every categorical value is unknown (numeric fields absent) / holdout CTR. */
  allUnknownRatio: number;
  /** NE over the other holdout impressions (ads seen in training). */
  restNe: number;
  baseRate: number;
}

/** The impression with every categorical value replaced by one no training row has (numeric fields left out). */
export const ALL_UNKNOWN: RawImpression = {
  slot_id: 'slot_never_seen',
  placement: 'placement_never_seen',
  ad_id: 'ad_never_seen',
  campaign_id: 'cmp_never_seen',
  advertiser_id: 'adv_never_seen',
  device_type: 'device_never_seen',
  os: 'os_never_seen',
  country: 'XX',
  context: { hour_of_day: 'hour_never_seen', site_category: 'site_never_seen' },
};

/**
 * Trains on days before `holdoutDay` and measures the cold-start figures of issue 12 on that day,
 * scoring through the serialised artifact as inference does (label = a click at all: the generator's
 * clicks, without an attribution window).
 */
export async function coldStartReport(
  rows: readonly SyntheticImpression[],
  holdoutDay: number,
  setting: ColdStartSetting,
): Promise<ColdStartReport> {
  const spec = defaultFeatureSpec;
  const plain = createFeaturizer(spec);
  const builder = new FeaturizedBatchBuilder(plain);
  const seenAds = new Set<string>();
  const holdout: SyntheticImpression[] = [];
  for (const r of rows) {
    if (r.day < holdoutDay) {
      builder.add({ label: r.clickedAt ? 1 : 0, impression: r.impression });
      seenAds.add(String(r.impression.ad_id));
    } else if (r.day === holdoutDay) holdout.push(r);
  }
  let batch = builder.build();
  let rareTokenDraws: ReturnType<ValueCounter['rareTokenDraws']> | undefined;
  if (setting.minCount > 0) {
    const counter = new ValueCounter(plain);
    counter.addBatch(batch);
    batch = refeaturizeBatch(batch, createFeaturizer(spec, { vocabulary: counter.vocabulary(setting.minCount) }));
    if (setting.perValue) rareTokenDraws = counter.rareTokenDraws(setting.minCount, setting.rareRate);
  }
  const result = trainOnBatch(batch, {
    hashBits: spec.hashBits,
    missingRate: setting.missingRate ?? 0.02,
    rareRate: setting.rareRate,
    ...(rareTokenDraws ? { rareTokenDraws } : {}),
  });
  const scorer = createScorer(parseArtifact(serializeArtifact(toArtifactInput(result, { featureSpec: spec })).bytes));
  // Holdout impressions of ads never seen in training, and the rest.
  const fresh = { p: 0, y: 0, n: 0, truth: 0 };
  const rest = { loss: 0, y: 0, n: 0 };
  let clicks = 0;
  for (const r of holdout) {
    const y = r.clickedAt ? 1 : 0;
    clicks += y;
    const p = scorer.score(r.impression);
    if (!seenAds.has(String(r.impression.ad_id))) {
      fresh.p += p;
      fresh.y += y;
      fresh.n++;
      fresh.truth += r.trueCtr;
    } else {
      const q = clipProbability(p);
      rest.loss -= y === 1 ? Math.log(q) : Math.log(1 - q);
      rest.n++;
      rest.y += y;
    }
  }
  const baseRate = clicks / holdout.length;
  return {
    newAdCalibration: fresh.p / fresh.y,
    newAdTruthRatio: fresh.p / fresh.truth,
    newAdRows: fresh.n,
    newAdClicks: fresh.y,
    allUnknownRatio: scorer.score(ALL_UNKNOWN) / baseRate,
    restNe: rest.loss / rest.n / binaryEntropy(rest.y / rest.n),
    baseRate,
  };
}
