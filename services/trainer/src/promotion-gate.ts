import { z } from 'zod';
import type { GateThresholds } from './config.js';

export const SliceCountsSchema = z.object({ rows: z.number().int().min(0), clicks: z.number().int().min(0) });
export type SliceCounts = z.infer<typeof SliceCountsSchema>;

/** Holdout metrics of one model; the gate reads these four. */
export const GateMetricsSchema = z.object({
  logloss: z.number(),
  auc: z.number(),
  ne: z.number(),
  calibration: z.number(),
});
export type GateMetrics = z.infer<typeof GateMetricsSchema>;

export interface GateInput {
  training: SliceCounts;
  holdout: SliceCounts;
  candidate: GateMetrics;
  /** The serving champion evaluated on the same holdout rows, or null when there is none. */
  champion: (GateMetrics & { version: string }) | null;
  thresholds: GateThresholds;
}

export const CheckOutcomeSchema = z.enum(['PASS', 'FAIL', 'SKIPPED']);
export type CheckOutcome = z.infer<typeof CheckOutcomeSchema>;

export const GateCheckSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** The measured value; null when it could not be measured (e.g. no champion). */
  value: z.number().nullable(),
  comparator: z.enum(['>=', '<=', 'within']),
  /** A bound, or [min, max] for "within". */
  threshold: z.union([z.number(), z.tuple([z.number(), z.number()])]),
  outcome: CheckOutcomeSchema,
  message: z.string(),
});
export type GateCheck = z.infer<typeof GateCheckSchema>;

export const GateDecisionSchema = z.object({
  outcome: z.enum(['PASS', 'FAIL']),
  /** One line per failed check, or a single line saying all passed. */
  reasons: z.array(z.string()),
  checks: z.array(GateCheckSchema),
  championVersion: z.string().nullable(),
});
export type GateDecision = z.infer<typeof GateDecisionSchema>;

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

function bound(
  name: string,
  description: string,
  value: number,
  comparator: '>=' | '<=',
  threshold: number,
): GateCheck {
  // NaN compares false both ways, so an unmeasurable value fails rather than slipping through.
  const ok = comparator === '>=' ? value >= threshold : value <= threshold;
  return {
    name,
    description,
    value: Number.isFinite(value) ? value : null,
    comparator,
    threshold,
    outcome: ok ? 'PASS' : 'FAIL',
    message: `${name} = ${Number.isFinite(value) ? fmt(value) : String(value)} (must be ${comparator} ${fmt(threshold)})`,
  };
}

function skipped(name: string, description: string, comparator: '>=' | '<=', threshold: number): GateCheck {
  return {
    name,
    description,
    value: null,
    comparator,
    threshold,
    outcome: 'SKIPPED',
    message: `${name}: no champion to compare with`,
  };
}

/**
 * The promotion gate: a pure function of the candidate's and champion's holdout metrics, the slice
 * counts and the thresholds. Every check is listed with its value, threshold and outcome; the
 * decision is PASS only when no check fails (skipped champion comparisons do not fail).
 */
export function decidePromotion(input: GateInput): GateDecision {
  const { training, holdout, candidate, champion, thresholds: t } = input;
  const trainCtr = training.rows > 0 ? training.clicks / training.rows : Number.NaN;
  const holdoutCtr = holdout.rows > 0 ? holdout.clicks / holdout.rows : Number.NaN;
  const shift = trainCtr > 0 ? Math.abs(holdoutCtr - trainCtr) / trainCtr : Number.NaN;

  const calibrationOk = candidate.calibration >= t.calibrationMin && candidate.calibration <= t.calibrationMax;
  const checks: GateCheck[] = [
    bound('train_rows', 'training impressions', training.rows, '>=', t.minTrainRows),
    bound('train_clicks', 'training clicks', training.clicks, '>=', t.minTrainClicks),
    bound('holdout_rows', 'holdout impressions', holdout.rows, '>=', t.minHoldoutRows),
    bound('holdout_clicks', 'holdout clicks', holdout.clicks, '>=', t.minHoldoutClicks),
    bound('base_rate_shift', '|holdout CTR − training CTR| / training CTR', shift, '<=', t.maxBaseRateShift),
    bound('auc', 'candidate holdout AUC', candidate.auc, '>=', t.minAuc),
    bound('ne', 'candidate normalized entropy (1 = base rate)', candidate.ne, '<=', t.maxNe),
    {
      name: 'calibration',
      description: 'candidate Σ predicted / Σ clicks on the holdout',
      value: Number.isFinite(candidate.calibration) ? candidate.calibration : null,
      comparator: 'within',
      threshold: [t.calibrationMin, t.calibrationMax],
      outcome: calibrationOk ? 'PASS' : 'FAIL',
      message: `calibration = ${fmt(candidate.calibration)} (must be within [${fmt(t.calibrationMin)}, ${fmt(t.calibrationMax)}])`,
    },
  ];
  if (champion) {
    checks.push(
      bound(
        'logloss_vs_champion',
        `candidate logloss − champion v${champion.version} logloss, same holdout`,
        candidate.logloss - champion.logloss,
        '<=',
        t.maxLoglossIncrease,
      ),
      bound(
        'auc_vs_champion',
        `champion v${champion.version} AUC − candidate AUC, same holdout`,
        champion.auc - candidate.auc,
        '<=',
        t.maxAucDrop,
      ),
    );
  } else {
    checks.push(
      skipped('logloss_vs_champion', 'candidate logloss − champion logloss', '<=', t.maxLoglossIncrease),
      skipped('auc_vs_champion', 'champion AUC − candidate AUC', '<=', t.maxAucDrop),
    );
  }

  const failed = checks.filter((c) => c.outcome === 'FAIL');
  const evaluated = checks.filter((c) => c.outcome !== 'SKIPPED').length;
  return {
    outcome: failed.length === 0 ? 'PASS' : 'FAIL',
    reasons: failed.length === 0 ? [`all ${evaluated} checks passed`] : failed.map((c) => c.message),
    checks,
    championVersion: champion?.version ?? null,
  };
}
