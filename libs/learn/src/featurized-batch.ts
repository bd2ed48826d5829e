import type { Featurizer, RawImpression } from '@fallback-ctr/model';
import { LearnError, LearnErrorCode } from './errors.js';

/** A labelled impression as the click-log reader yields it (extra fields are ignored). */
export interface LabeledImpression {
  label: number;
  impression: RawImpression;
  servedAt?: Date;
  /** The generator's true click probability (synthetic data only). */
  trueCtr?: number;
}

/** Pre-featurised rows in typed arrays: row r's indices are `indices[r·width .. (r+1)·width)`. */
export interface FeaturizedBatch {
  readonly rows: number;
  readonly width: number;
  readonly indices: Uint32Array;
  readonly labels: Uint8Array;
  /** Present when every row carried `trueCtr`. */
  readonly trueCtr?: Float64Array;
  /** servedAt of the first and last row, when the rows carried it. */
  readonly dataFrom?: Date;
  readonly dataTo?: Date;
}

export function checkLabel(label: number, row: number): 0 | 1 {
  if (label !== 0 && label !== 1) {
    throw new LearnError(LearnErrorCode.INPUT_INVALID, `row ${row}: label must be 0 or 1, got ${String(label)}`);
  }
  return label;
}

/** Accumulates featurised rows into growing typed arrays. */
export class FeaturizedBatchBuilder {
  private readonly featurizer: Featurizer;
  private readonly width: number;
  private indices: Uint32Array;
  private labels: Uint8Array;
  private trueCtr: Float64Array;
  private hasTrueCtr = true;
  private n = 0;
  private first: Date | undefined;
  private last: Date | undefined;

  constructor(featurizer: Featurizer, initialRows = 1024) {
    this.featurizer = featurizer;
    this.width = featurizer.maxIndices;
    const cap = Math.max(1, initialRows);
    this.indices = new Uint32Array(cap * this.width);
    this.labels = new Uint8Array(cap);
    this.trueCtr = new Float64Array(cap);
  }

  get rows(): number {
    return this.n;
  }

  add(row: LabeledImpression): void {
    const label = checkLabel(row.label, this.n);
    if (this.n === this.labels.length) this.grow();
    const out = this.indices.subarray(this.n * this.width, (this.n + 1) * this.width);
    this.featurizer.featurize(row.impression, out);
    this.labels[this.n] = label;
    if (row.trueCtr === undefined) this.hasTrueCtr = false;
    else this.trueCtr[this.n] = row.trueCtr;
    if (row.servedAt !== undefined) {
      if (this.first === undefined) this.first = row.servedAt;
      this.last = row.servedAt;
    }
    this.n++;
  }

  build(): FeaturizedBatch {
    const n = this.n;
    return {
      rows: n,
      width: this.width,
      indices: this.indices.slice(0, n * this.width),
      labels: this.labels.slice(0, n),
      ...(this.hasTrueCtr && n > 0 ? { trueCtr: this.trueCtr.slice(0, n) } : {}),
      ...(this.first !== undefined ? { dataFrom: this.first } : {}),
      ...(this.last !== undefined ? { dataTo: this.last } : {}),
    };
  }

  private grow(): void {
    const cap = this.labels.length * 2;
    const indices = new Uint32Array(cap * this.width);
    indices.set(this.indices);
    this.indices = indices;
    const labels = new Uint8Array(cap);
    labels.set(this.labels);
    this.labels = labels;
    const t = new Float64Array(cap);
    t.set(this.trueCtr);
    this.trueCtr = t;
  }
}

/** Featurises a (sync or async) stream of labelled impressions into one batch. */
export async function featurizeRows(
  source: Iterable<LabeledImpression> | AsyncIterable<LabeledImpression>,
  featurizer: Featurizer,
): Promise<FeaturizedBatch> {
  const b = new FeaturizedBatchBuilder(featurizer);
  for await (const row of source) b.add(row);
  return b.build();
}

/** Checks a batch's shape and that every index fits a hash space of `size`. */
export function validateBatch(batch: FeaturizedBatch, size: number): void {
  const { rows, width, indices, labels } = batch;
  if (indices.length !== rows * width || labels.length !== rows) {
    throw new LearnError(
      LearnErrorCode.INPUT_INVALID,
      `batch shape mismatch: ${rows} rows × width ${width} needs ${rows * width} indices and ${rows} labels, got ${indices.length} and ${labels.length}`,
    );
  }
  let max = 0;
  for (let k = 0; k < indices.length; k++) if ((indices[k] as number) > max) max = indices[k] as number;
  if (rows > 0 && max >= size) {
    throw new LearnError(
      LearnErrorCode.INPUT_INVALID,
      `index ${max} is outside the model's hash space of ${size}; the feature spec and the learner's hashBits differ`,
    );
  }
  for (let r = 0; r < rows; r++) checkLabel(labels[r] as number, r);
}
