import type { FeaturizedBatch } from '@fallback-ctr/learn';

/**
 * Prior precision of a cross cell's effect in the screen (1 / variance in logit units²): 5 ≈ a
 * prior spread of 0.45, the size of interaction effects worth finding. It keeps cells seen once or
 * twice from dominating the statistic.
 */
export const SCREEN_PRIOR_PRECISION = 5;

/**
 * Estimates, without training, the NE a model would gain from a cross it does not have: a score
 * test on the model's residuals. For each cell g of the cross (its hashed value) with gradient
 * U_g = Σ (y − p) and information I_g = Σ p(1 − p), one Newton step of a ridge fit of a per-cell
 * effect gains U_g² / (I_g + λ) in deviance, of which I_g / (I_g + λ) is expected under no effect.
 * The sum of the excess over cells, / (2 n H), is in NE units. Crosses are columns of `batch`.
 */
export function screenCrosses(
  batch: FeaturizedBatch,
  columns: readonly number[],
  predictions: Float64Array,
  size: number,
  entropy: number,
  lambda = SCREEN_PRIOR_PRECISION,
): number[] {
  const { rows, width, indices, labels } = batch;
  const u = new Float64Array(size);
  const info = new Float64Array(size);
  const touched = new Uint32Array(rows);
  return columns.map((col) => {
    let nTouched = 0;
    for (let r = 0, off = col; r < rows; r++, off += width) {
      const i = indices[off] as number;
      const p = predictions[r] as number;
      if (info[i] === 0 && u[i] === 0) touched[nTouched++] = i;
      u[i]! += (labels[r] as number) - p;
      info[i]! += p * (1 - p) + 1e-300;
    }
    let excess = 0;
    for (let t = 0; t < nTouched; t++) {
      const i = touched[t] as number;
      const ui = u[i] as number;
      const ii = info[i] as number;
      excess += (ui * ui - ii) / (ii + lambda);
      u[i] = 0;
      info[i] = 0;
    }
    return rows > 0 && entropy > 0 ? excess / (2 * rows * entropy) : 0;
  });
}
