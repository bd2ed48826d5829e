import type { Featurizer, RawImpression, Vocabulary } from '@fallback-ctr/model';
import { LearnError, LearnErrorCode } from './errors.js';
import type { FeaturizedBatch, LabeledBatch } from './featurized-batch.js';
import { RareTokenDraws } from './rare-token-draws.js';

/**
 * Counts how often each value of each categorical field occurs (by its 32-bit field hash, the one the
 * featurizer computes), to keep the values seen at least k times: the vocabulary of a model. Memory is
 * one Map entry per distinct value.
 */
export class ValueCounter {
  private readonly featurizer: Featurizer;
  private readonly counts: (Map<number, number> | undefined)[];
  private readonly missing: Int32Array;
  private readonly buf: Int32Array;
  private rows = 0;

  constructor(featurizer: Featurizer) {
    this.featurizer = featurizer;
    this.counts = featurizer.spec.fields.map((f) => (f.kind === 'categorical' ? new Map<number, number>() : undefined));
    this.buf = new Int32Array(featurizer.fieldCount);
    // The missing value of each field (hash of an impression without it) is never part of a vocabulary.
    this.missing = new Int32Array(featurizer.fieldCount);
    featurizer.hashFields({}, this.missing, 0);
  }

  get rowCount(): number {
    return this.rows;
  }

  add(impression: RawImpression): void {
    this.featurizer.hashFields(impression, this.buf, 0);
    this.addHashes(this.buf, 0);
  }

  /** Adds every row of a column batch (as `add` of each row's impression). */
  addColumns(batch: Pick<LabeledBatch, 'length' | 'columns' | 'contexts'>): void {
    for (let r = 0; r < batch.length; r++) {
      this.featurizer.hashColumnsRow(batch, r, this.buf, 0);
      this.addHashes(this.buf, 0);
    }
  }

  /** Adds one row's field hashes `hashes[offset..offset + fieldCount)`. */
  addHashes(hashes: Int32Array, offset: number): void {
    for (let i = 0; i < this.counts.length; i++) {
      const m = this.counts[i];
      const h = hashes[offset + i] as number;
      if (m === undefined || h === this.missing[i]) continue;
      m.set(h, (m.get(h) ?? 0) + 1);
    }
    this.rows++;
  }

  /** Adds every row of a batch built by FeaturizedBatchBuilder with this counter's featurizer. */
  addBatch(batch: FeaturizedBatch): void {
    const seg = batch.lineage?.segments[0];
    if (seg === undefined || seg.featurizer.fieldCount !== this.featurizer.fieldCount) {
      throw new LearnError(LearnErrorCode.INPUT_INVALID, 'counting values needs a batch that keeps its field hashes');
    }
    for (let r = 0; r < batch.rows; r++) this.addHashes(seg.fieldHashes, r * this.featurizer.fieldCount);
  }

  /**
   * The vocabulary: per categorical field, the values seen at least `minCount` times (ascending
   * uint32 hashes). Everything else is the field's rare token in training and at serving.
   */
  vocabulary(minCount: number): Vocabulary {
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new LearnError(LearnErrorCode.OPTIONS_INVALID, `minCount must be a positive integer, got ${minCount}`);
    }
    const fields: Record<string, Uint32Array> = {};
    this.featurizer.spec.fields.forEach((f, i) => {
      const m = this.counts[i];
      if (m === undefined) return;
      const kept: number[] = [];
      for (const [h, c] of m) if (c >= minCount) kept.push(h >>> 0);
      fields[f.name] = Uint32Array.from(kept).sort();
    });
    return { minCount, fields };
  }

  /**
   * How often each value of the vocabulary at `minCount` is trained as its field's rare token: about
   * `rareRate` of a field's rows, spread so that each kept value gives about as many (RareTokenDraws).
   */
  rareTokenDraws(minCount: number, rareRate: number): RareTokenDraws {
    return new RareTokenDraws(this.counts, minCount, rareRate);
  }

  /** Distinct values and those kept at `minCount`, per categorical field (for logs and run params). */
  summary(minCount: number): Record<string, { distinct: number; kept: number }> {
    const out: Record<string, { distinct: number; kept: number }> = {};
    this.featurizer.spec.fields.forEach((f, i) => {
      const m = this.counts[i];
      if (m === undefined) return;
      let kept = 0;
      for (const c of m.values()) if (c >= minCount) kept++;
      out[f.name] = { distinct: m.size, kept };
    });
    return out;
  }
}

/**
 * The batch featurised again, from its field hashes, by `featurizer` (the same spec, typically with a
 * vocabulary now): no second read of the rows. The batch must hold every column of one featurizer.
 * With `inPlace` the new indices overwrite the batch's own (which must then not be used again): the
 * rows are not held twice.
 */
export function refeaturizeBatch(
  batch: FeaturizedBatch,
  featurizer: Featurizer,
  options: { inPlace?: boolean } = {},
): FeaturizedBatch {
  const lineage = batch.lineage;
  const seg = lineage?.segments[0];
  if (
    lineage === undefined ||
    seg === undefined ||
    lineage.segments.length !== 1 ||
    seg.slots.length !== featurizer.maxIndices ||
    lineage.fieldCount !== featurizer.fieldCount
  ) {
    throw new LearnError(
      LearnErrorCode.INPUT_INVALID,
      'refeaturizeBatch needs a batch of all the columns of one featurizer, with its field hashes (FeaturizedBatchBuilder)',
    );
  }
  const width = featurizer.maxIndices;
  const indices = options.inPlace ? batch.indices : new Uint32Array(batch.rows * width);
  const row = new Uint32Array(width);
  for (let r = 0; r < batch.rows; r++) {
    featurizer.indicesFromHashes(seg.fieldHashes, r * lineage.fieldCount, row);
    indices.set(row, r * width);
  }
  const { vocabulary: _old, ...rest } = lineage;
  return {
    ...batch,
    width,
    indices,
    lineage: {
      ...rest,
      ...(featurizer.vocabulary ? { vocabulary: featurizer.vocabulary } : {}),
      segments: [{ featurizer, fieldHashes: seg.fieldHashes, slots: seg.slots }],
    },
  };
}
