import type { ArtifactInput, FeatureSpec } from '@fallback-ctr/model';

/**
 * `size` weights from a fixed LCG: every one non-zero at density 1 (the worst case), else about
 * `density` of them non-zero (what L1 leaves).
 */
export function syntheticWeights(size: number, density: number, seed: number): Float32Array {
  const weights = new Float32Array(size);
  let s = seed;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    if (density === 1 || s / 2 ** 32 < density) weights[i] = (s / 2 ** 32 - 0.5) * 0.3 || 0.01;
  }
  return weights;
}

/** An artifact input for a benchmark: the given spec and weights, training metadata that says "bench". */
export function benchArtifactInput(featureSpec: FeatureSpec, weights: Float32Array, bias: number): ArtifactInput {
  return {
    featureSpec,
    bias,
    weights,
    training: {
      algorithm: 'bench',
      hyperparameters: {},
      rows: 0,
      positives: 0,
      passes: 1,
      seed: 0,
      createdAt: new Date().toISOString(),
    },
  };
}
