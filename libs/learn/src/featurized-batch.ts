import type { Featurizer, ImpressionColumns, RawImpression, Vocabulary } from '@fallback-ctr/model';
import { LearnError, LearnErrorCode } from './errors.js';

/** A labelled impression as the click-log reader yields it (extra fields are ignored). */
export interface LabeledImpression {
  label: number;
  impression: RawImpression;
  servedAt?: Date;
  /** The generator's true click probability (synthetic data only). */
  trueCtr?: number;
}

/**
 * Labelled impressions by column, a batch at a time (the click-log reader's TrainingBatch is one):
 * no object per row. Row r: label `labels[r]`, served at `servedAtMs[r]` (epoch ms) when given.
 */
export interface LabeledBatch extends ImpressionColumns {
  readonly labels: ArrayLike<number>;
  readonly servedAtMs?: ArrayLike<number>;
  /** The generator's true click probability of each row (synthetic data only; NaN where unknown). */
  readonly trueCtr?: ArrayLike<number>;
}

/** Batches to train on: an iterable of them, or a function that opens the stream anew per pass. */
export type BatchSource =
  | Iterable<LabeledBatch>
  | AsyncIterable<LabeledBatch>
  | (() => Iterable<LabeledBatch> | AsyncIterable<LabeledBatch>);

/**
 * Where a batch's columns come from, so training can featurise a row again with fields forced missing
 * or rare (missingRate, rareRate): the batch's columns are, segment after segment, the featurizer output
 * slots `slots` of that segment, computed from the rows' field hashes (rows × fieldCount).
 */
export interface BatchLineage {
  /** Fields per row; every segment's featurizer has these fields in this order. */
  readonly fieldCount: number;
  readonly vocabulary?: Vocabulary;
  readonly segments: readonly {
    readonly featurizer: Featurizer;
    readonly fieldHashes: Int32Array;
    readonly slots: readonly number[];
  }[];
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
  /** Kept by FeaturizedBatchBuilder; needed to train with missingRate or rareRate. */
  readonly lineage?: BatchLineage;
}

/** Row r's indices featurised again from its field hashes with `mask` applied, into `out[0..width)`. */
export function refeaturize(lineage: BatchLineage, r: number, mask: Uint8Array, out: Uint32Array): void {
  let k = 0;
  for (const seg of lineage.segments) {
    const f = seg.featurizer;
    const tmp = scratchFor(f.maxIndices);
    f.indicesFromHashes(seg.fieldHashes, r * lineage.fieldCount, tmp, mask);
    for (const slot of seg.slots) out[k++] = tmp[slot] as number;
  }
}

let scratch = new Uint32Array(64);
function scratchFor(n: number): Uint32Array {
  if (scratch.length < n) scratch = new Uint32Array(n);
  return scratch;
}

/**
 * The batch restricted to some of its columns, in the given order: the featurisation of a spec with
 * only those fields and crosses, since an index depends only on its own field or cross. Keeps lineage.
 */
export function selectColumns(batch: FeaturizedBatch, columns: readonly number[]): FeaturizedBatch {
  const { rows, width, indices } = batch;
  const k = columns.length;
  const out = new Uint32Array(rows * k);
  for (let r = 0, src = 0, dst = 0; r < rows; r++, src += width, dst += k) {
    for (let c = 0; c < k; c++) out[dst + c] = indices[src + (columns[c] as number)] as number;
  }
  const { lineage: _lineage, indices: _indices, width: _width, ...rest } = batch;
  const lineage = batch.lineage;
  if (lineage === undefined) return { ...rest, width: k, indices: out };
  const flat = lineage.segments.flatMap((seg, s) => seg.slots.map((slot) => ({ s, slot })));
  const segments: { featurizer: Featurizer; fieldHashes: Int32Array; slots: number[] }[] = [];
  for (const c of columns) {
    const { s, slot } = flat[c] as { s: number; slot: number };
    const seg = lineage.segments[s] as BatchLineage['segments'][number];
    const last = segments[segments.length - 1];
    if (last !== undefined && last.featurizer === seg.featurizer) last.slots.push(slot);
    else segments.push({ featurizer: seg.featurizer, fieldHashes: seg.fieldHashes, slots: [slot] });
  }
  return { ...rest, width: k, indices: out, lineage: { ...lineage, segments } };
}

/** Rows [from, to) of a batch as views (no copy), lineage included. */
export function sliceRows(batch: FeaturizedBatch, from: number, to: number): FeaturizedBatch {
  const { width } = batch;
  const { lineage, trueCtr, dataFrom: _from, dataTo: _to, ...rest } = batch;
  return {
    ...rest,
    rows: to - from,
    indices: batch.indices.subarray(from * width, to * width),
    labels: batch.labels.subarray(from, to),
    ...(trueCtr ? { trueCtr: trueCtr.subarray(from, to) } : {}),
    ...(lineage
      ? {
          lineage: {
            ...lineage,
            segments: lineage.segments.map((seg) => ({
              ...seg,
              fieldHashes: seg.fieldHashes.subarray(from * lineage.fieldCount, to * lineage.fieldCount),
            })),
          },
        }
      : {}),
  };
}

/** Puts the columns of `b` after those of `a`; both must hold the same rows (same labels, same fields). */
export function appendColumns(a: FeaturizedBatch, b: FeaturizedBatch): FeaturizedBatch {
  if (a.rows !== b.rows) {
    throw new LearnError(LearnErrorCode.INPUT_INVALID, `cannot append ${b.rows} rows of columns to ${a.rows} rows`);
  }
  const width = a.width + b.width;
  const out = new Uint32Array(a.rows * width);
  for (let r = 0; r < a.rows; r++) {
    out.set(a.indices.subarray(r * a.width, (r + 1) * a.width), r * width);
    out.set(b.indices.subarray(r * b.width, (r + 1) * b.width), r * width + a.width);
  }
  const { lineage: _lineage, ...rest } = a;
  const la = a.lineage;
  const lb = b.lineage;
  if (la === undefined || lb === undefined || la.fieldCount !== lb.fieldCount) return { ...rest, width, indices: out };
  return { ...rest, width, indices: out, lineage: { ...la, segments: [...la.segments, ...lb.segments] } };
}

export function checkLabel(label: number, row: number): 0 | 1 {
  if (label !== 0 && label !== 1) {
    throw new LearnError(LearnErrorCode.INPUT_INVALID, `row ${row}: label must be 0 or 1, got ${String(label)}`);
  }
  return label;
}

/**
 * Accumulates featurised rows into growing typed arrays. With `keepLast`, it holds the most recent
 * `keepLast` rows only (a ring: older rows are overwritten), so memory stays bounded whatever the
 * stream's length; `dropped` says how many were let go. `build` hands its arrays over (no copy: the
 * rows are held once, 129 bytes each with the default spec), so no row may be added after it.
 */
export class FeaturizedBatchBuilder {
  private readonly featurizer: Featurizer;
  private readonly width: number;
  private readonly keepLast: number;
  private indices: Uint32Array;
  private labels: Uint8Array;
  private trueCtr: Float64Array;
  private fieldHashes: Int32Array;
  private readonly fieldCount: number;
  private hasTrueCtr = true;
  private built = false;
  private readonly shared: boolean;
  /** Rows added so far (held and dropped). */
  private n = 0;
  private first: Date | undefined;
  private last: Date | undefined;

  /**
   * With `shared`, the indices, labels and field hashes live in SharedArrayBuffers: another thread
   * (the search's TrialThread) reads the built batch without a copy.
   */
  constructor(featurizer: Featurizer, initialRows = 1024, options: { keepLast?: number; shared?: boolean } = {}) {
    this.featurizer = featurizer;
    this.width = featurizer.maxIndices;
    this.keepLast = Math.max(1, options.keepLast ?? Number.POSITIVE_INFINITY);
    this.shared = options.shared ?? false;
    const cap = Math.max(1, Math.min(initialRows, this.keepLast));
    this.indices = new Uint32Array(this.buffer(cap * this.width * 4));
    this.labels = new Uint8Array(this.buffer(cap));
    this.trueCtr = new Float64Array(cap);
    this.fieldCount = featurizer.fieldCount;
    this.fieldHashes = new Int32Array(this.buffer(cap * this.fieldCount * 4));
  }

  private buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }

  /** Rows held (those `build` returns). */
  get rows(): number {
    return Math.min(this.n, this.keepLast);
  }

  /** Rows added but no longer held (only with `keepLast`). */
  get dropped(): number {
    return this.n - this.rows;
  }

  add(row: LabeledImpression): void {
    this.assertOpen();
    const label = checkLabel(row.label, this.n);
    const s = this.slot();
    const out = this.indices.subarray(s * this.width, (s + 1) * this.width);
    this.featurizer.hashFields(row.impression, this.fieldHashes, s * this.fieldCount);
    this.featurizer.indicesFromHashes(this.fieldHashes, s * this.fieldCount, out);
    this.labels[s] = label;
    if (row.trueCtr === undefined) this.noTrueCtr();
    else if (this.hasTrueCtr) this.trueCtr[s] = row.trueCtr;
    if (row.servedAt !== undefined) {
      if (this.first === undefined) this.first = row.servedAt;
      this.last = row.servedAt;
    }
    this.n++;
  }

  /** Adds every row of a column batch (same result as `add` of each row as an object). */
  addBatch(batch: LabeledBatch): void {
    this.assertOpen();
    const { labels, servedAtMs, trueCtr } = batch;
    for (let r = 0; r < batch.length; r++) {
      const label = checkLabel(labels[r] as number, this.n);
      const s = this.slot();
      const out = this.indices.subarray(s * this.width, (s + 1) * this.width);
      this.featurizer.hashColumnsRow(batch, r, this.fieldHashes, s * this.fieldCount);
      this.featurizer.indicesFromHashes(this.fieldHashes, s * this.fieldCount, out);
      this.labels[s] = label;
      const t = trueCtr?.[r];
      if (t === undefined || Number.isNaN(t)) this.noTrueCtr();
      else if (this.hasTrueCtr) this.trueCtr[s] = t;
      if (servedAtMs !== undefined) {
        const at = servedAtMs[r] as number;
        if (this.first === undefined) this.first = new Date(at);
        if (r === batch.length - 1) this.last = new Date(at);
      }
      this.n++;
    }
  }

  /**
   * The rows held, oldest first, in the builder's own arrays (views; a ring is put in order in place).
   * Once rows were dropped, `dataFrom` (the first row's time) is unknown.
   */
  build(): FeaturizedBatch {
    this.assertOpen();
    this.built = true;
    const n = this.rows;
    // Oldest held row's slot: 0 until the ring wrapped.
    const start = this.dropped > 0 ? this.n % this.keepLast : 0;
    return {
      rows: n,
      width: this.width,
      indices: inOrder(this.indices, start, n, this.width),
      labels: inOrder(this.labels, start, n, 1),
      ...(this.hasTrueCtr && n > 0 ? { trueCtr: inOrder(this.trueCtr, start, n, 1) } : {}),
      ...(this.first !== undefined && this.dropped === 0 ? { dataFrom: this.first } : {}),
      ...(this.last !== undefined ? { dataTo: this.last } : {}),
      lineage: {
        fieldCount: this.fieldCount,
        ...(this.featurizer.vocabulary ? { vocabulary: this.featurizer.vocabulary } : {}),
        segments: [
          {
            featurizer: this.featurizer,
            fieldHashes: inOrder(this.fieldHashes, start, n, this.fieldCount),
            slots: Array.from({ length: this.width }, (_, i) => i),
          },
        ],
      },
    };
  }

  private assertOpen(): void {
    if (this.built) {
      throw new LearnError(
        LearnErrorCode.INPUT_INVALID,
        'FeaturizedBatchBuilder: build() handed its rows over already',
      );
    }
  }

  /** A row without a true CTR: the batch will have none, so its array is let go. */
  private noTrueCtr(): void {
    if (!this.hasTrueCtr) return;
    this.hasTrueCtr = false;
    this.trueCtr = new Float64Array(0);
  }

  /** Where the next row goes: the end while there is room (growing), else the oldest row's slot. */
  private slot(): number {
    if (this.n >= this.keepLast) return this.n % this.keepLast;
    if (this.n === this.labels.length) this.grow();
    return this.n;
  }

  private grow(): void {
    const cap = Math.min(this.labels.length * 2, this.keepLast);
    const indices = new Uint32Array(this.buffer(cap * this.width * 4));
    indices.set(this.indices);
    this.indices = indices;
    const labels = new Uint8Array(this.buffer(cap));
    labels.set(this.labels);
    this.labels = labels;
    if (this.hasTrueCtr) {
      const t = new Float64Array(cap);
      t.set(this.trueCtr);
      this.trueCtr = t;
    }
    const h = new Int32Array(this.buffer(cap * this.fieldCount * 4));
    h.set(this.fieldHashes);
    this.fieldHashes = h;
  }
}

/**
 * The first `rows` rows of `stride` values of `a`, oldest first, the oldest at slot `start` (a ring):
 * rotated in place with a copy of the smaller part only, and returned as a view.
 */
function inOrder<T extends Uint32Array | Uint8Array | Int32Array | Float64Array>(
  a: T,
  start: number,
  rows: number,
  stride: number,
): T {
  const out = a.subarray(0, rows * stride) as T;
  if (start === 0) return out;
  const cut = start * stride;
  const end = rows * stride;
  const view = out as unknown as Float64Array;
  if (cut <= end - cut) {
    // The newest rows, in slots [0, start), are the fewer: set them aside, move the oldest to the front.
    const newest = view.slice(0, cut);
    view.copyWithin(0, cut, end);
    view.set(newest, end - cut);
  } else {
    const oldest = view.slice(cut, end);
    view.copyWithin(end - cut, 0, cut);
    view.set(oldest, 0);
  }
  return out;
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

/** Featurises a (sync or async) stream of column batches into one batch. */
export async function featurizeBatches(
  source: Iterable<LabeledBatch> | AsyncIterable<LabeledBatch>,
  featurizer: Featurizer,
): Promise<FeaturizedBatch> {
  const b = new FeaturizedBatchBuilder(featurizer);
  for await (const batch of source) b.addBatch(batch);
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
