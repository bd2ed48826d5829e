import type { LabeledImpression } from '@fallback-ctr/learn';
import type { FeatureSpec } from '@fallback-ctr/model';
import type { Ablations } from './ablations.js';
import type { AnalyzeOptions } from './analyze-options.js';
import type { NeDelta } from './feature-report.js';
import { featurize, type ModelBench } from './model-bench.js';
import { screenCrosses } from './pair-screen.js';

export interface ScreenedPair {
  fields: string[];
  /** Score-test estimate of the NE gain of adding the pair. */
  estimate: number;
}

export interface CandidateCrosses {
  /** Every pair screened, best estimate first. */
  screened: ScreenedPair[];
  /** The screen's best pairs, trained and measured. */
  candidates: string[][];
  /** Their bench columns. */
  columns: number[];
  /** Per candidate: NE(spec) − NE(spec + the cross). */
  addCross: NeDelta[];
}

const SCREEN_CHUNK = 32;

/**
 * Stage 3 — candidate crosses: every pair among the `candidateFields` strongest fields (by single-field
 * NE) that the spec does not cross is screened on the full model's residuals; the best
 * `candidatePairs` are trained and measured.
 */
export function measureCandidateCrosses(
  bench: ModelBench,
  ablations: Ablations,
  trainRows: readonly LabeledImpression[],
  options: AnalyzeOptions,
): CandidateCrosses {
  const { spec } = bench;
  const strongest = spec.fields
    .map((f, k) => ({ name: f.name, ne: ablations.singleNe[k] as number, k }))
    .sort((a, b) => a.ne - b.ne || a.k - b.k)
    .slice(0, options.candidateFields)
    .sort((a, b) => a.k - b.k)
    .map((x) => x.name);
  const pairs = pairsAmong(strongest, new Set(spec.crosses.map((c) => crossKey(c.fields))));
  const predictions = ablations.full.predict(bench.trainBatch);
  const estimates = screenPairs(pairs, spec, trainRows, predictions, bench.entropy);
  const screened = pairs
    .map((fields, i) => ({ fields, estimate: estimates[i] as number, i }))
    .sort((a, b) => b.estimate - a.estimate || a.i - b.i)
    .map(({ fields, estimate }) => ({ fields, estimate }));
  const candidates = screened.slice(0, options.candidatePairs).map((s) => s.fields);

  bench.plan(candidates.length);
  const columns = bench.appendCrosses(candidates);
  const all = bench.specColumns;
  // Gain of having the cross = NE(full) − NE(full + cross).
  const addCross = candidates.map((pair, c) =>
    bench.delta(bench.fit([...all, columns[c] as number], `with ${pair.join('×')}`), ablations.full),
  );
  return { screened, candidates, columns, addCross };
}

function crossKey(fields: readonly string[]): string {
  return [...fields].sort().join('\u0000');
}

function pairsAmong(fields: readonly string[], existing: Set<string>): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < fields.length; i++) {
    for (let j = i + 1; j < fields.length; j++) {
      const pair = [fields[i] as string, fields[j] as string];
      if (!existing.has(crossKey(pair))) out.push(pair);
    }
  }
  return out;
}

/** Screen estimates (NE units) of each pair, featurised in chunks to bound memory. */
function screenPairs(
  pairs: readonly string[][],
  spec: FeatureSpec,
  rows: readonly LabeledImpression[],
  predictions: Float64Array,
  entropy: number,
): number[] {
  const out: number[] = [];
  const nf = spec.fields.length;
  for (let start = 0; start < pairs.length; start += SCREEN_CHUNK) {
    const chunk = pairs.slice(start, start + SCREEN_CHUNK);
    const batch = featurize(rows, { ...spec, crosses: chunk.map((fields) => ({ fields })) });
    out.push(
      ...screenCrosses(
        batch,
        chunk.map((_, c) => nf + c),
        predictions,
        2 ** spec.hashBits,
        entropy,
      ),
    );
  }
  return out;
}
