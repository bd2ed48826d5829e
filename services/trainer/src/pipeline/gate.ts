import type { Logger } from '@fallback-ctr/runtime';
import type { GateThresholds } from '../config.js';
import { decidePromotion, type GateDecision, type PairedDifference, type SliceCounts } from '../promotion-gate.js';
import type { HoldoutEvaluation } from './evaluate.js';
import { baseRate, reportedMetrics, standardErrors } from './holdout-metrics.js';
import type { WindowBounds } from './load-window.js';

/** Stage 4 — gate: the promotion gate on the candidate's (and the champion's) holdout metrics. */
export function gateCandidate(
  training: SliceCounts,
  evaluation: HoldoutEvaluation,
  thresholds: GateThresholds,
  logger: Logger,
): GateDecision {
  const decision = decidePromotion({
    training,
    holdout: { rows: evaluation.rows, clicks: evaluation.clicks },
    candidate: evaluation.candidate.estimates,
    champion:
      evaluation.champion && evaluation.difference
        ? {
            version: evaluation.champion.version,
            metrics: evaluation.champion.estimates,
            difference: evaluation.difference,
          }
        : null,
    thresholds,
  });
  logger.info({ gate: decision.outcome, reasons: decision.reasons, checks: decision.checks }, 'promotion gate decided');
  return decision;
}

/**
 * `gate-report.json`: what the gate saw and decided, uploaded into the run. The outcome and the failed
 * checks come first, for whoever opens the file to learn why; `decision` keeps every check.
 */
export interface GateReport {
  outcome: GateDecision['outcome'];
  failedChecks: GateDecision['checks'];
  modelName: string;
  runId: string;
  window: { from: string; to: string };
  training: SliceCounts;
  holdout: SliceCounts;
  candidate: Record<string, number>;
  champion: ({ version: string } & Record<string, number | string>) | null;
  /** Candidate − champion on the same rows, each with the standard error of the paired difference. */
  vsChampion: PairedDifference | null;
  thresholds: GateThresholds;
  decision: GateDecision;
  artifactSha256: string;
}

export function gateReport(input: {
  modelName: string;
  runId: string;
  bounds: WindowBounds;
  training: SliceCounts;
  evaluation: HoldoutEvaluation;
  thresholds: GateThresholds;
  decision: GateDecision;
  artifactSha256: string;
}): GateReport {
  const { evaluation } = input;
  return {
    outcome: input.decision.outcome,
    failedChecks: input.decision.checks.filter((c) => c.outcome === 'FAIL'),
    modelName: input.modelName,
    runId: input.runId,
    window: { from: input.bounds.from.toISOString(), to: input.bounds.to.toISOString() },
    training: input.training,
    holdout: { rows: evaluation.rows, clicks: evaluation.clicks },
    candidate: {
      rows: evaluation.rows,
      clicks: evaluation.clicks,
      base_rate: baseRate(evaluation),
      ...reportedMetrics(evaluation.candidate.metrics),
      ...standardErrors('', evaluation.candidate.estimates),
    },
    champion: evaluation.champion
      ? {
          version: evaluation.champion.version,
          ...reportedMetrics(evaluation.champion.metrics),
          ...standardErrors('', evaluation.champion.estimates),
        }
      : null,
    vsChampion: evaluation.difference,
    thresholds: input.thresholds,
    decision: input.decision,
    artifactSha256: input.artifactSha256,
  };
}
