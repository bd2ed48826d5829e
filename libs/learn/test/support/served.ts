import { type ArtifactInput, createScorer, parseArtifact, type Scorer, serializeArtifact } from '@fallback-ctr/model';
import type { FeaturizedBatch } from '../../src/index.js';

/** What inference would serve for `input`: the artifact serialised, parsed back, and its scorer. */
export function servedModel(input: ArtifactInput): { bytes: Buffer; scorer: Scorer } {
  const { bytes } = serializeArtifact(input);
  return { bytes, scorer: createScorer(parseArtifact(bytes)) };
}

/** The scorer's prediction for every row of a featurised batch. */
export function scoreRows(scorer: Scorer, batch: FeaturizedBatch): Float64Array {
  const p = new Float64Array(batch.rows);
  for (let r = 0; r < batch.rows; r++) {
    p[r] = scorer.scoreIndices(batch.indices.subarray(r * batch.width), batch.width);
  }
  return p;
}
