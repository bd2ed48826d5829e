import type { FeaturizedBatch } from '@fallback-ctr/learn';

/**
 * A batch restricted to some of its columns (slots), in the given order: the featurisation of a spec
 * with only those fields and crosses, since an index depends only on its own field or cross.
 */
export function selectColumns(batch: FeaturizedBatch, columns: readonly number[]): FeaturizedBatch {
  const { rows, width, indices } = batch;
  const k = columns.length;
  const out = new Uint32Array(rows * k);
  for (let r = 0, src = 0, dst = 0; r < rows; r++, src += width, dst += k) {
    for (let c = 0; c < k; c++) out[dst + c] = indices[src + (columns[c] as number)] as number;
  }
  return {
    rows,
    width: k,
    indices: out,
    labels: batch.labels,
    ...(batch.trueCtr ? { trueCtr: batch.trueCtr } : {}),
  };
}

/** Puts the columns of `b` after those of `a`; both must hold the same rows (same labels). */
export function appendColumns(a: FeaturizedBatch, b: FeaturizedBatch): FeaturizedBatch {
  const width = a.width + b.width;
  const out = new Uint32Array(a.rows * width);
  for (let r = 0; r < a.rows; r++) {
    out.set(a.indices.subarray(r * a.width, (r + 1) * a.width), r * width);
    out.set(b.indices.subarray(r * b.width, (r + 1) * b.width), r * width + a.width);
  }
  return { ...a, width, indices: out };
}
