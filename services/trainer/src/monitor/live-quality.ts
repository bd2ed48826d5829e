import { type Estimate, metricEstimates } from '@fallback-ctr/learn';

const HOUR_MS = 3_600_000;
const NONE: Estimate = { value: Number.NaN, se: Number.NaN };

/** One scored impression with its final label. */
export interface LabelledScore {
  modelVersion: string;
  score: number;
  scoredAt: Date;
  clicked: 0 | 1;
}

/** The live quality of one model version over one hour (or over the whole window, `hour` null). */
export interface LiveQuality {
  version: string;
  /** Start of the UTC hour, or null for the version's whole window. */
  hour: Date | null;
  impressions: number;
  clicks: number;
  /** Σ predicted CTR and Σ clicks. */
  sumPredicted: number;
  /** Σp / Σy (1 = calibrated; above 1 the model over-predicts) with the ratio estimator's standard error. */
  calibration: Estimate;
  logloss: Estimate;
  /** NaN (with NaN SE) when the hour has fewer clicks than the minimum, or no non-clicks. */
  auc: Estimate;
}

function quality(version: string, hour: Date | null, rows: LabelledScore[], minClicksForAuc: number): LiveQuality {
  const scores = Float64Array.from(rows, (r) => r.score);
  const labels = Uint8Array.from(rows, (r) => r.clicked);
  const estimates = metricEstimates(scores, labels);
  let clicks = 0;
  let sumPredicted = 0;
  for (const r of rows) {
    clicks += r.clicked;
    sumPredicted += r.score;
  }
  return {
    version,
    hour,
    impressions: rows.length,
    clicks,
    sumPredicted,
    calibration: estimates.calibration,
    logloss: estimates.logloss,
    auc: clicks >= minClicksForAuc && clicks < rows.length ? estimates.auc : NONE,
  };
}

/**
 * Per model version and UTC hour (by when the score was served): impressions, clicks, Σp/Σy, logloss and
 * AUC with their standard errors (libs/learn's metricEstimates, the estimators the promotion gate
 * uses), plus one row per version for the whole window. Ordered by version, then hour.
 */
export function liveQuality(
  rows: readonly LabelledScore[],
  options: { minClicksForAuc: number },
): { hourly: LiveQuality[]; overall: LiveQuality[] } {
  const byVersion = new Map<string, Map<number, LabelledScore[]>>();
  for (const row of rows) {
    const hour = Math.floor(row.scoredAt.getTime() / HOUR_MS) * HOUR_MS;
    const hours = byVersion.get(row.modelVersion) ?? new Map<number, LabelledScore[]>();
    byVersion.set(row.modelVersion, hours);
    const bucket = hours.get(hour) ?? [];
    hours.set(hour, bucket);
    bucket.push(row);
  }
  const hourly: LiveQuality[] = [];
  const overall: LiveQuality[] = [];
  const versions = [...byVersion.keys()].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  for (const version of versions) {
    const hours = byVersion.get(version)!;
    const all: LabelledScore[] = [];
    for (const hour of [...hours.keys()].sort((a, b) => a - b)) {
      const bucket = hours.get(hour)!;
      hourly.push(quality(version, new Date(hour), bucket, options.minClicksForAuc));
      all.push(...bucket);
    }
    overall.push(quality(version, null, all, options.minClicksForAuc));
  }
  return { hourly, overall };
}
