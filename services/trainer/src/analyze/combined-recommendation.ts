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
  return {
    keepCross,
    addCandidate,
    requiredBy,
    droppedFields,
    spec: combinedSpec,
    fit,
    neChange: bench.delta(ablations.full, fit),
  };
}
