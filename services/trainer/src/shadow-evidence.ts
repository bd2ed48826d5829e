import { metricEstimates, pairedEstimates } from '@fallback-ctr/learn';
import type { ShadowEvidence } from './shadow-decision.js';

/** A logged score with its final label, as the prediction log's reader returns it. */
export interface LabelledScore {
  impressionId: string;
  modelVersion: string;
  role: 'served' | 'shadow';
  score: number;
  scoredAt: Date;
  clicked: 0 | 1;
}

/** Champion and challenger scores of the same impressions, index for index. */
export interface ShadowPairs {
  champion: Float64Array;
  challenger: Float64Array;
  labels: Uint8Array;
  firstAt: Date | null;
  lastAt: Date | null;
}

/**
 * Pairs, by impression id, the champion's served score with the challenger's shadow score: only
 * impressions both scored count (the log samples by a hash of the id, so both roles keep the same
 * ones). Another version's entries and an impression scored twice (a retry) add nothing.
 */
export function pairShadowScores(
  rows: Iterable<LabelledScore>,
  versions: { champion: string; challenger: string },
): ShadowPairs {
  const served = new Map<string, LabelledScore>();
  const shadow = new Map<string, LabelledScore>();
  for (const row of rows) {
    if (row.role === 'served' && row.modelVersion === versions.champion) {
      if (!served.has(row.impressionId)) served.set(row.impressionId, row);
    } else if (row.role === 'shadow' && row.modelVersion === versions.challenger) {
      if (!shadow.has(row.impressionId)) shadow.set(row.impressionId, row);
    }
  }
  const champion: number[] = [];
  const challenger: number[] = [];
  const labels: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const [id, s] of served) {
    const c = shadow.get(id);
    if (!c) continue;
    champion.push(s.score);
    challenger.push(c.score);
    labels.push(s.clicked);
    first = Math.min(first, s.scoredAt.getTime());
    last = Math.max(last, s.scoredAt.getTime());
  }
  return {
    champion: Float64Array.from(champion),
    challenger: Float64Array.from(challenger),
    labels: Uint8Array.from(labels),
    firstAt: labels.length > 0 ? new Date(first) : null,
    lastAt: labels.length > 0 ? new Date(last) : null,
  };
}

const unmeasured = { value: Number.NaN, se: Number.NaN };
const NO_METRICS = { logloss: unmeasured, auc: unmeasured, ne: unmeasured, calibration: unmeasured };

/** Each model's live metrics and the paired difference (challenger − champion), with standard errors. */
export function shadowEvidence(pairs: ShadowPairs, versions: { champion: string; challenger: string }): ShadowEvidence {
  const n = pairs.labels.length;
  let clicks = 0;
  for (const y of pairs.labels) clicks += y;
  const measured = n > 0;
  const difference = measured
    ? pairedEstimates(pairs.challenger, pairs.champion, pairs.labels)
    : { logloss: unmeasured, auc: unmeasured };
  return {
    champion: {
      version: versions.champion,
      metrics: measured ? metricEstimates(pairs.champion, pairs.labels) : NO_METRICS,
    },
    challenger: {
      version: versions.challenger,
      metrics: measured ? metricEstimates(pairs.challenger, pairs.labels) : NO_METRICS,
    },
    difference,
    impressions: n,
    clicks,
    firstAt: pairs.firstAt,
    lastAt: pairs.lastAt,
  };
}
