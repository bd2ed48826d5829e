import type { EvaluationMetrics } from '@fallback-ctr/learn';
import type { GateMetrics, SliceCounts } from '../promotion-gate.js';

/** The four holdout numbers of a model that the gate reads, the logs show and the version tags carry. */
export function gateMetrics(m: EvaluationMetrics): GateMetrics {
  return { logloss: m.logloss, auc: m.auc, ne: m.normalizedEntropy, calibration: m.calibration };
}

/** What the run's metrics and the gate report show of a model: the gate's four and the mean prediction. */
export function reportedMetrics(m: EvaluationMetrics): GateMetrics & { mean_prediction: number } {
  return { ...gateMetrics(m), mean_prediction: m.meanPrediction };
}

/** A holdout evaluation as these mappings read it (`HoldoutEvaluation` of evaluate.ts). */
interface EvaluatedSlice extends SliceCounts {
  candidate: { metrics: EvaluationMetrics };
  champion: { metrics: EvaluationMetrics } | null;
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
  if (evaluation.champion) {
    for (const [k, v] of Object.entries(reportedMetrics(evaluation.champion.metrics))) out[`champion_holdout_${k}`] = v;
  }
  return out;
}
