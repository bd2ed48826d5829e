import type { ModelArtifact } from './artifact.js';
import { createFeaturizer, type Featurizer } from './featurizer.js';
import type { ImpressionColumns } from './impression-columns.js';
import type { RawImpression } from './raw-impression.js';

/** The logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Re-calibrates a probability p predicted by a model trained with negatives kept at rate w:
 * q = p / (p + (1 − p) / w).
 */
export function recalibrate(p: number, negativeSamplingRate: number): number {
  return p / (p + (1 - p) / negativeSamplingRate);
}

export interface Scorer {
  readonly artifact: ModelArtifact;
  readonly featurizer: Featurizer;
  /** Predicted CTR of one impression (re-calibrated if the model was trained on down-sampled negatives). */
  score(raw: RawImpression): number;
  /** Scores many impressions into `out` (allocated only if not given or too short); returns `out`. */
  scoreBatch(raws: readonly RawImpression[], out?: Float64Array): Float64Array;
  /** score(impressionAt(batch, row)) without building the impression (the trainer's holdout path). */
  scoreColumnsRow(batch: ImpressionColumns, row: number): number;
  /** Predicted CTR of pre-featurised indices `indices[0..n)`. */
  scoreIndices(indices: Uint32Array, n: number): number;
}

/**
 * CTR = sigmoid(bias + Σ weights[index] + ln w), where the ln w term (w = negative sampling rate) is the
 * re-calibration q = p / (p + (1 − p)/w) in logit form.
 */
export function createScorer(artifact: ModelArtifact): Scorer {
  const featurizer = createFeaturizer(
    artifact.featureSpec,
    artifact.vocabulary !== undefined ? { vocabulary: artifact.vocabulary } : {},
  );
  const weights = artifact.weights;
  const offset = artifact.bias + Math.log(artifact.negativeSamplingRate);
  const buf = new Uint32Array(featurizer.maxIndices);
  const hashes = new Int32Array(featurizer.fieldCount);

  function scoreIndices(indices: Uint32Array, n: number): number {
    let z = offset;
    for (let k = 0; k < n; k++) z += weights[indices[k] as number] as number;
    return sigmoid(z);
  }
  function score(raw: RawImpression): number {
    return scoreIndices(buf, featurizer.featurize(raw, buf));
  }
  function scoreColumnsRow(batch: ImpressionColumns, row: number): number {
    featurizer.hashColumnsRow(batch, row, hashes, 0);
    return scoreIndices(buf, featurizer.indicesFromHashes(hashes, 0, buf));
  }
  function scoreBatch(raws: readonly RawImpression[], out?: Float64Array): Float64Array {
    const o = out !== undefined && out.length >= raws.length ? out : new Float64Array(raws.length);
    for (let r = 0; r < raws.length; r++) o[r] = score(raws[r] as RawImpression);
    return o;
  }
  return { artifact, featurizer, score, scoreBatch, scoreColumnsRow, scoreIndices };
}
