import type { LabeledImpression } from '@fallback-ctr/learn';
import type { FeatureSpec, RawImpression } from '@fallback-ctr/model';
import type { AnalyzeOptions } from './analyze-options.js';
import type { CostVariant } from './serving-cost.js';
import { measureServingCost } from './serving-cost.js';

export interface VariantCosts {
  /** ns per impression of the full spec's scorer. */
  baseNs: number;
  /** Scorer ns per impression gained (+) or saved (−) by each change; 0 when not measured. */
  withoutField(name: string): number;
  withoutCross(j: number): number;
  withCandidate(c: number): number;
  /** null when the combined spec has no field left. */
  combined: number | null;
}

export interface VariantCostInput {
  spec: FeatureSpec;
  candidates: readonly string[][];
  combinedSpec: FeatureSpec;
  /** Weights of the full model (the scorers only need them for a realistic memory footprint). */
  weights: Float64Array;
  holdoutRows: readonly LabeledImpression[];
  options: AnalyzeOptions;
  onStart: (scorers: number) => void;
}

/**
 * Stage 5 — serving cost, measured with the scorer inference runs: the spec without each field (and
 * its crosses), without each cross, with each candidate, and the combined recommendation.
 */
export function measureVariantCosts(o: VariantCostInput): VariantCosts {
  const { spec } = o;
  const variants: CostVariant[] = [
    ...spec.fields.map((f) => ({
      key: `field:${f.name}`,
      spec: {
        ...spec,
        fields: spec.fields.filter((g) => g.name !== f.name),
        crosses: spec.crosses.filter((c) => !c.fields.includes(f.name)),
      },
    })),
    ...spec.crosses.map((_c, j) => ({
      key: `cross:${j}`,
      spec: { ...spec, crosses: spec.crosses.filter((_, i) => i !== j) },
    })),
    ...o.candidates.map((fields, c) => ({
      key: `candidate:${c}`,
      spec: { ...spec, crosses: [...spec.crosses, { fields }] },
    })),
    { key: 'combined', spec: o.combinedSpec },
  ].filter((v) => v.spec.fields.length > 0);
  o.onStart(variants.length + 1);
  const timing: RawImpression[] = o.holdoutRows.slice(0, o.options.timingImpressions).map((r) => r.impression);
  const cost = measureServingCost(spec, variants, timing, Float32Array.from(o.weights), {
    rounds: o.options.timingRounds,
    seed: o.options.seed,
  });
  const of = (key: string) => cost.deltaNs.get(key) ?? 0;
  return {
    baseNs: cost.baseNs,
    withoutField: (name) => of(`field:${name}`),
    withoutCross: (j) => of(`cross:${j}`),
    withCandidate: (c) => of(`candidate:${c}`),
    combined: o.combinedSpec.fields.length > 0 ? of('combined') : null,
  };
}
