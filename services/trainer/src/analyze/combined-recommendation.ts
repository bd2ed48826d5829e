import type { FeatureSpec } from '@fallback-ctr/model';
import type { Ablations } from './ablations.js';
import type { CandidateCrosses } from './candidate-crosses.js';
import type { NeDelta } from './feature-report.js';
import type { ModelBench } from './model-bench.js';
import type { ModelFit } from './model-fit.js';
import { isRealGain, type Thresholds } from './recommend.js';

export interface CombinedRecommendation {
  /** Per spec cross: its gain clears the bar. */
  keepCross: boolean[];
  /** Per candidate: its gain clears the bar. */
  addCandidate: boolean[];
  /** Field → the kept or added crosses that need it (it stays for them whatever its own ablation says). */
  requiredBy: Map<string, string[]>;
  droppedFields: Set<string>;
  /** The spec with every drop and add applied. */
  spec: FeatureSpec;
  /** That spec trained and scored like the others, and NE(it) − NE(full spec). */
  fit: ModelFit;
  neChange: NeDelta;
  verdict: CombinedVerdict;
}

/** How the report names each verdict. */
export const VERDICT_LABEL = {
  apply: 'recommended',
  withheld: 'not recommended',
  'no-change': 'nothing to change',
} as const;

export interface CombinedVerdict {
  verdict: 'apply' | 'withheld' | 'no-change';
  reason: string;
}

/**
 * Stage 4 — every recommendation applied at once: one-at-a-time deltas need not add up, so the
 * combined spec is trained and measured too.
 */
export function measureCombined(
  bench: ModelBench,
  ablations: Ablations,
  candidates: CandidateCrosses,
  thresholds: Thresholds,
): CombinedRecommendation {
  const { spec } = bench;
  const nf = spec.fields.length;
  const keepCross = ablations.dropCross.map((gain) => isRealGain(gain, thresholds));
  const addCandidate = candidates.addCross.map((gain) => isRealGain(gain, thresholds));
  const requiredBy = new Map<string, string[]>();
  const require = (fields: readonly string[]) => {
    for (const f of fields) requiredBy.set(f, [...(requiredBy.get(f) ?? []), fields.join('×')]);
  };
  for (const [j, c] of spec.crosses.entries()) if (keepCross[j]) require(c.fields);
  for (const [c, fields] of candidates.candidates.entries()) if (addCandidate[c]) require(fields);
  const droppedFields = new Set(
    spec.fields
      .filter((f, k) => !isRealGain(ablations.dropField[k] as NeDelta, thresholds) && !requiredBy.has(f.name))
      .map((f) => f.name),
  );

  const keptFields = spec.fields.flatMap((f, k) => (droppedFields.has(f.name) ? [] : [{ f, column: k }]));
  const keptCrosses = spec.crosses.flatMap((c, j) => (keepCross[j] ? [{ c, column: nf + j }] : []));
  const addedCrosses = candidates.candidates.flatMap((fields, c) =>
    addCandidate[c] ? [{ c: { fields }, column: candidates.columns[c] as number }] : [],
  );
  const combinedSpec: FeatureSpec = {
    ...spec,
    fields: keptFields.map(({ f }) => f),
    crosses: [...keptCrosses, ...addedCrosses].map(({ c }) => c),
  };
  const columns = [...keptFields, ...keptCrosses, ...addedCrosses].map(({ column }) => column);
  if (columns.length > 0) bench.plan(1);
  const fit = columns.length > 0 ? bench.fit(columns, 'all recommendations applied') : bench.constant();
  const neChange = bench.delta(ablations.full, fit);
  const changes =
    droppedFields.size + keepCross.filter((keep) => !keep).length + addCandidate.filter((add) => add).length;
  return {
    keepCross,
    addCandidate,
    requiredBy,
    droppedFields,
    spec: combinedSpec,
    fit,
    neChange,
    verdict: combinedVerdict(neChange, changes, thresholds),
  };
}

const signed = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(4);

/**
 * Whether the combination is recommended: not when its own measurement shows it worse than the full
 * spec by more than the bar a field or cross must clear to be kept (one-at-a-time deltas need not
 * add up: two fields carrying the same signal each look dispensable alone).
 */
export function combinedVerdict(neChange: NeDelta, changes: number, t: Thresholds): CombinedVerdict {
  const measured = `${signed(neChange.delta)} ± ${neChange.se.toFixed(4)} NE`;
  if (changes === 0) return { verdict: 'no-change', reason: 'nothing to drop or add: the spec stays as it is' };
  if (isRealGain(neChange, t)) {
    return {
      verdict: 'withheld',
      reason:
        `made together, the ${changes} changes make the model worse (${measured}), by more than the bar of ` +
        `${t.minNeGain} NE and ${t.significanceZ} standard errors; the one-at-a-time numbers do not add up here, ` +
        'so make the changes one at a time and run the analysis again after each',
    };
  }
  return {
    verdict: 'apply',
    reason: `made together, the ${changes} changes hold up (${measured} against the full spec)`,
  };
}
