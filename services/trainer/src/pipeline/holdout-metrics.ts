import type { EvaluationMetrics, MetricEstimates, PairedEstimates } from '@fallback-ctr/learn';
import type { SliceCounts } from '../promotion-gate.js';

/** The four holdout numbers of a model that the gate reads (with their standard errors), the logs show and the version tags carry. */
export interface PointMetrics {
  logloss: number;
  auc: number;
  ne: number;
  calibration: number;
}

/** Decimals of each in a version tag and in `status`: enough to tell two models apart, not more than they mean. */
export const METRIC_DECIMALS: Readonly<Record<keyof PointMetrics, number>> = {
  logloss: 6,
  auc: 4,
  ne: 4,
  calibration: 3,
};

/** A holdout number as a version tag and `status` show it; counts stay whole. */
export function shownMetric(metric: string, value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(METRIC_DECIMALS[metric as keyof PointMetrics] ?? 4);
}

export function gateMetrics(m: EvaluationMetrics): PointMetrics {
  return { logloss: m.logloss, auc: m.auc, ne: m.normalizedEntropy, calibration: m.calibration };
}

/** What the run's metrics and the gate report show of a model: the gate's four and the mean prediction. */
export function reportedMetrics(m: EvaluationMetrics): PointMetrics & { mean_prediction: number } {
  return { ...gateMetrics(m), mean_prediction: m.meanPrediction };
}

/** A holdout evaluation as these mappings read it (`HoldoutEvaluation` of evaluate.ts). */
interface EvaluatedSlice extends SliceCounts {
  candidate: { metrics: EvaluationMetrics; estimates?: MetricEstimates };
  champion: { metrics: EvaluationMetrics; estimates?: MetricEstimates } | null;
  difference?: PairedEstimates | null;
}

/** `<prefix><metric>_se` for each standard error that could be estimated. */
export function standardErrors(
  prefix: string,
  estimates: Partial<MetricEstimates> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, e] of Object.entries(estimates ?? {})) if (Number.isFinite(e.se)) out[`${prefix}${k}_se`] = e.se;
  return out;
}

export const baseRate = (slice: SliceCounts): number => (slice.rows > 0 ? slice.clicks / slice.rows : Number.NaN);

/** The run's summary metrics in MLflow: slice counts, base rates, and candidate and champion holdout metrics. */
export function runMetrics(training: SliceCounts, evaluation: EvaluatedSlice): Record<string, number> {
  const trainRate = baseRate(training);
  const holdoutRate = baseRate(evaluation);
  const out: Record<string, number> = {
    train_rows: training.rows,
    train_clicks: training.clicks,
    train_base_rate: trainRate,
    holdout_rows: evaluation.rows,
    holdout_clicks: evaluation.clicks,
    holdout_base_rate: holdoutRate,
    base_rate_shift: Math.abs(holdoutRate - trainRate) / trainRate,
  };
  for (const [k, v] of Object.entries(reportedMetrics(evaluation.candidate.metrics))) out[`holdout_${k}`] = v;
  Object.assign(out, standardErrors('holdout_', evaluation.candidate.estimates));
  if (evaluation.champion) {
    for (const [k, v] of Object.entries(reportedMetrics(evaluation.champion.metrics))) out[`champion_holdout_${k}`] = v;
    Object.assign(out, standardErrors('champion_holdout_', evaluation.champion.estimates));
  }
  if (evaluation.difference) {
    out.vs_champion_logloss_diff = evaluation.difference.logloss.value;
    out.vs_champion_auc_diff = evaluation.difference.auc.value;
    Object.assign(out, standardErrors('vs_champion_', evaluation.difference));
  }
  // MLflow and the version tags get finite numbers only (a NaN metric reads as a measurement).
  return Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v)));
}
