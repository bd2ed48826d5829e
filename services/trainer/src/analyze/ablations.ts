import type { NeDelta } from './feature-report.js';
import type { ModelBench } from './model-bench.js';
import { fitQuality, type ModelFit } from './model-fit.js';

export interface Ablations {
  /** The model on the whole spec, and its AUC and calibration. */
  full: ModelFit;
  fullQuality: { auc: number; calibration: number };
  /** Per field: NE of a model on that field alone. */
  singleNe: number[];
  /** Per field: NE(spec without the field and its crosses) − NE(spec). */
  dropField: NeDelta[];
  /** Per spec cross: NE(spec without the cross) − NE(spec). */
  dropCross: NeDelta[];
}

/** Stage 2 — the full spec, each field alone, the spec without each field (and its crosses), without each cross. */
export function measureAblations(bench: ModelBench): Ablations {
  const { spec } = bench;
  const nf = spec.fields.length;
  const nc = spec.crosses.length;
  const all = bench.specColumns;
  bench.plan(1 + nf + (nf > 1 ? nf : 0) + nc);

  const full = bench.fit(all, 'full spec');
  const fullQuality = fitQuality(full, bench.holdoutBatch);
  const singleNe = spec.fields.map((f, k) => bench.fit([k], `${f.name} alone`).ne);
  const dropField = spec.fields.map((f, k) => {
    // Without its only field the model is the base rate of the training sample.
    if (nf === 1) return bench.delta(full, bench.constant());
    const gone = new Set([k, ...crossColumnsOf(bench, f.name)]);
    const without = all.filter((c) => !gone.has(c));
    return bench.delta(full, bench.fit(without, `without ${f.name}`));
  });
  const dropCross = spec.crosses.map((c, j) => {
    const without = all.filter((k) => k !== nf + j);
    return bench.delta(full, bench.fit(without, `without ${c.fields.join('×')}`));
  });
  return { full, fullQuality, singleNe, dropField, dropCross };
}

/** Columns of the spec's crosses that use the field. */
function crossColumnsOf(bench: ModelBench, field: string): number[] {
  const nf = bench.spec.fields.length;
  return bench.spec.crosses.flatMap((c, j) => (c.fields.includes(field) ? [nf + j] : []));
}
