import { z } from 'zod';
import type { GateThresholds } from './config.js';

export const SliceCountsSchema = z.object({ rows: z.number().int().min(0), clicks: z.number().int().min(0) });
export type SliceCounts = z.infer<typeof SliceCountsSchema>;

/** A holdout metric and its standard error (NaN when it cannot be estimated). */
export const EstimateSchema = z.object({ value: z.number(), se: z.number() });
export type Estimate = z.infer<typeof EstimateSchema>;

/** Holdout metrics of one model, each with its standard error; the gate reads these four. */
export const GateMetricsSchema = z.object({
  logloss: EstimateSchema,
  auc: EstimateSchema,
  ne: EstimateSchema,
  calibration: EstimateSchema,
});
export type GateMetrics = z.infer<typeof GateMetricsSchema>;

/** Candidate − champion on the same holdout rows, with the standard errors of the paired differences. */
export const PairedDifferenceSchema = z.object({ logloss: EstimateSchema, auc: EstimateSchema });
export type PairedDifference = z.infer<typeof PairedDifferenceSchema>;

export interface GateInput {
  training: SliceCounts;
  holdout: SliceCounts;
  candidate: GateMetrics;
  /** The serving champion evaluated on the same holdout rows, or null when there is none. */
  champion: { version: string; metrics: GateMetrics; difference: PairedDifference } | null;
  thresholds: GateThresholds;
}

export const CheckOutcomeSchema = z.enum(['PASS', 'FAIL', 'SKIPPED']);
export type CheckOutcome = z.infer<typeof CheckOutcomeSchema>;

export const GateCheckSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** The measured value; null when it could not be measured (e.g. no champion). */
  value: z.number().nullable(),
  /** Standard error of the value; null for counts and unmeasured values. */
  standardError: z.number().nullable(),
  comparator: z.enum(['>=', '<=', 'within']),
  /** The bound applied (already widened by the uncertainty where the check allows for it), or [min, max]. */
  threshold: z.union([z.number(), z.tuple([z.number(), z.number()])]),
  /** How the bound was derived from the configured one, when the uncertainty moved it. */
  rule: z.string().optional(),
  /** What the check protects against (minimum-size checks). */
  protects: z.string().optional(),
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

/** How many standard errors a measured difference must exceed before the gate calls it real. */
export const GATE_Z = 2;

export const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
/** A standard error that cannot be estimated counts as zero uncertainty (the point value decides). */
export const widen = (se: number): number => (Number.isFinite(se) ? GATE_Z * se : 0);

export interface CheckSpec {
  name: string;
  description: string;
  value: number;
  se?: number;
  comparator: '>=' | '<=';
  threshold: number;
  rule?: string;
  protects?: string;
}

/** One check of a bound on a measured value, worded for people (also used by the shadow comparison). */
export function bound(c: CheckSpec): GateCheck {
  // NaN compares false both ways, so an unmeasurable value fails rather than slipping through.
  const ok = c.comparator === '>=' ? c.value >= c.threshold : c.value <= c.threshold;
  const shown = Number.isFinite(c.value) ? fmt(c.value) : String(c.value);
  const pm = c.se !== undefined && Number.isFinite(c.se) ? ` ± ${fmt(c.se)} SE` : '';
  const rule = c.rule ? `${c.rule} = ${fmt(c.threshold)}` : fmt(c.threshold);
  const protects = !ok && c.protects ? `; ${c.protects}` : '';
  return {
    name: c.name,
    description: c.description,
    value: finiteOrNull(c.value),
    standardError: c.se === undefined ? null : finiteOrNull(c.se),
    comparator: c.comparator,
    threshold: c.threshold,
    ...(c.rule ? { rule: c.rule } : {}),
    ...(c.protects ? { protects: c.protects } : {}),
    outcome: ok ? 'PASS' : 'FAIL',
    message: `${c.name} = ${shown}${pm} (must be ${c.comparator} ${rule})${protects}`,
  };
}

function skipped(name: string, description: string, threshold: number): GateCheck {
  return {
    name,
    description,
    value: null,
    standardError: null,
    comparator: '<=',
    threshold,
    outcome: 'SKIPPED',
    message: `${name}: no champion to compare with`,
  };
}

/**
 * Relative shift of the holdout CTR from the training CTR, with its delta-method standard error from
 * the two binomial proportions: SE(h/t) ≈ (h/t)·√(Var h/h² + Var t/t²).
 */
function baseRateShift(training: SliceCounts, holdout: SliceCounts): Estimate {
  const t = training.rows > 0 ? training.clicks / training.rows : Number.NaN;
  const h = holdout.rows > 0 ? holdout.clicks / holdout.rows : Number.NaN;
  const value = t > 0 ? Math.abs(h - t) / t : Number.NaN;
  const relVar = (p: number, n: number) => (p > 0 ? (1 - p) / (p * n) : Number.NaN);
  const se = (h / t) * Math.sqrt(relVar(h, holdout.rows) + relVar(t, training.rows));
  return { value, se: Number.isFinite(se) ? se : Number.NaN };
}

function calibrationCheck(calibration: Estimate, t: GateThresholds): GateCheck {
  const slack = widen(calibration.se);
  const low = t.calibrationMin - slack;
  const high = t.calibrationMax + slack;
  const v = calibration.value;
  const ok = v >= low && v <= high;
  const pm = Number.isFinite(calibration.se) ? ` ± ${fmt(calibration.se)} SE` : '';
  return {
    name: 'calibration',
    description: 'candidate Σ predicted / Σ clicks on the holdout',
    value: finiteOrNull(v),
    standardError: finiteOrNull(calibration.se),
    comparator: 'within',
    threshold: [low, high],
    rule: `[GATE_CALIBRATION_MIN − ${GATE_Z} SE, GATE_CALIBRATION_MAX + ${GATE_Z} SE]`,
    outcome: ok ? 'PASS' : 'FAIL',
    message: `calibration = ${Number.isFinite(v) ? fmt(v) : String(v)}${pm} (must be within [${fmt(t.calibrationMin)}, ${fmt(t.calibrationMax)}] widened by ${GATE_Z} SE = [${fmt(low)}, ${fmt(high)}])`,
  };
}

/**
 * The promotion gate: a pure function of the candidate's and champion's holdout metrics (each with its
 * standard error), the slice counts and the thresholds. Every check is listed with its value, standard
 * error, applied bound and outcome; the decision is PASS only when no check fails.
 *
 * How uncertainty enters, so that a small holdout neither fails a good model by chance nor passes a
 * useless one:
 * - skill must be shown beyond noise: AUC ≥ max(GATE_MIN_AUC, 0.5 + 2 SE) and
 *   NE ≤ min(GATE_MAX_NE, 1 − 2 SE), so a model that only matches chance or the base rate fails;
 * - faults must be shown beyond noise: calibration and the base-rate shift fail only when they are out
 *   of bounds by more than 2 SE, and "no worse than the champion" fails only when the candidate is
 *   worse on the same rows by more than max(δ, 2 SE of the paired difference);
 * - the minimum sizes bound how large those standard errors can get.
 */
export function decidePromotion(input: GateInput): GateDecision {
  const { training, holdout, candidate, champion, thresholds: t } = input;
  const shift = baseRateShift(training, holdout);
  const checks: GateCheck[] = [
    bound({
      name: 'train_rows',
      description: 'training impressions',
      value: training.rows,
      comparator: '>=',
      threshold: t.minTrainRows,
      protects: 'fewer leave most feature values with too few impressions to learn a weight of their own',
    }),
    bound({
      name: 'train_clicks',
      description: 'training clicks',
      value: training.clicks,
      comparator: '>=',
      threshold: t.minTrainClicks,
      protects: 'fewer clicks leave the model little more than its bias to learn',
    }),
    bound({
      name: 'holdout_rows',
      description: 'holdout impressions',
      value: holdout.rows,
      comparator: '>=',
      threshold: t.minHoldoutRows,
      protects: 'fewer make the holdout too short a slice of traffic to stand for the next day',
    }),
    bound({
      name: 'holdout_clicks',
      description: 'holdout clicks',
      value: holdout.clicks,
      comparator: '>=',
      threshold: t.minHoldoutClicks,
      protects:
        'the precision of every holdout metric: with k clicks calibration is known to about ±1/√k and AUC to about ±0.3/√k, and the 2-SE allowances below widen with them',
    }),
    bound({
      name: 'base_rate_shift',
      description: '|holdout CTR − training CTR| / training CTR',
      value: shift.value,
      se: shift.se,
      comparator: '<=',
      threshold: t.maxBaseRateShift + widen(shift.se),
      rule: `GATE_MAX_BASE_RATE_SHIFT + ${GATE_Z} SE`,
    }),
    bound({
      name: 'auc',
      description: 'candidate holdout AUC, beyond chance by 2 SE',
      value: candidate.auc.value,
      se: candidate.auc.se,
      comparator: '>=',
      threshold: Math.max(t.minAuc, 0.5 + widen(candidate.auc.se)),
      rule: `max(GATE_MIN_AUC, 0.5 + ${GATE_Z} SE)`,
    }),
    bound({
      name: 'ne',
      description: 'candidate normalized entropy (1 = base rate), below the base rate by 2 SE',
      value: candidate.ne.value,
      se: candidate.ne.se,
      comparator: '<=',
      threshold: Math.min(t.maxNe, 1 - widen(candidate.ne.se)),
      rule: `min(GATE_MAX_NE, 1 − ${GATE_Z} SE)`,
    }),
    calibrationCheck(candidate.calibration, t),
  ];
  if (champion) {
    const d = champion.difference;
    checks.push(
      bound({
        name: 'logloss_vs_champion',
        description: `candidate logloss − champion v${champion.version} logloss, same holdout rows`,
        value: d.logloss.value,
        se: d.logloss.se,
        comparator: '<=',
        // Relative: logloss scales with the base rate (about 0.09 at 2 % CTR, 0.015 at 0.2 %).
        threshold: Math.max(t.maxLoglossIncrease * champion.metrics.logloss.value, widen(d.logloss.se)),
        rule: `max(GATE_MAX_LOGLOSS_INCREASE × champion logloss, ${GATE_Z} SE)`,
      }),
      bound({
        name: 'auc_vs_champion',
        description: `champion v${champion.version} AUC − candidate AUC, same holdout rows`,
        value: -d.auc.value,
        se: d.auc.se,
        comparator: '<=',
        threshold: Math.max(t.maxAucDrop, widen(d.auc.se)),
        rule: `max(GATE_MAX_AUC_DROP, ${GATE_Z} SE)`,
      }),
    );
  } else {
    checks.push(
      skipped('logloss_vs_champion', 'candidate logloss − champion logloss', t.maxLoglossIncrease),
      skipped('auc_vs_champion', 'champion AUC − candidate AUC', t.maxAucDrop),
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
