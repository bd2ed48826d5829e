import type { SplitPart } from '@fallback-ctr/clicklog';
import {
  type FeaturizedBatch,
  FeaturizedBatchBuilder,
  type RareTokenDraws,
  refeaturizeBatch,
  ValueCounter,
} from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec, type Vocabulary } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';

/** What the cold-start counts give training: the vocabulary, and how often each kept value trains the rare token. */
export interface ColdStartCounts {
  vocabulary: Vocabulary;
  rareTokenDraws: RareTokenDraws;
}

/** Rows and clicks of the whole training part as the learner gets it (the non-clicks the database kept). */
export interface PartLabels {
  rows: number;
  clicks: number;
}

function addLabels(part: PartLabels, labels: ArrayLike<number>, length: number): void {
  part.rows += length;
  for (let r = 0; r < length; r++) part.clicks += labels[r] as number;
}

/**
 * The training part read once into memory, for the search and the refit of its winner: featurised with
 * the vocabulary when there is one (field hashes kept, so training can force fields missing or rare).
 */
export interface TrainingRowsInMemory {
  /** The whole training part, or its most recent `maxRows` rows when it was longer (`complete` false). */
  batch: FeaturizedBatch;
  /** Counted over the whole training part in either case. */
  counts?: ColdStartCounts;
  /** Every row of the training part is in `batch`: the refit can train on it instead of reading again. */
  complete: boolean;
  /** Counted over the whole training part in either case (the bias starts at its base rate). */
  labelCounts: PartLabels;
}

interface ReadOptions {
  featureSpec: FeatureSpec;
  ftrl: Pick<TrainerConfig['ftrl'], 'minValueCount' | 'rareRate' | 'negativeSamplingRate'>;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Cold start: values seen fewer than `minValueCount` times in the training part become their field's
 * rare token in training, and the artifact carries the kept values so the scorer does the same at
 * serving; the rare token's training rows are drawn per value (ValueCounter.rareTokenDraws).
 */
export function coldStartCounts(counter: ValueCounter, o: ReadOptions, startedMs: number): ColdStartCounts {
  const { minValueCount, rareRate } = o.ftrl;
  o.logger.info(
    {
      vocabulary: {
        minValueCount,
        rows: counter.rowCount,
        fields: counter.summary(minValueCount),
        elapsedMs: Date.now() - startedMs,
      },
    },
    `vocabulary: values seen at least ${minValueCount} times kept, the rest train as each field's rare token`,
  );
  return {
    vocabulary: counter.vocabulary(minValueCount),
    rareTokenDraws: counter.rareTokenDraws(minValueCount, rareRate),
  };
}

/** One pass over the training part (streamed from the click log) that only counts values and labels. */
export async function countTrainingValues(
  train: Pick<SplitPart, 'read'>,
  o: ReadOptions,
): Promise<{ counts: ColdStartCounts; labelCounts: PartLabels }> {
  const started = Date.now();
  const counter = new ValueCounter(createFeaturizer(o.featureSpec));
  const labels = { rows: 0, clicks: 0 };
  for await (const batch of train.read({ signal: o.signal }).batches()) {
    counter.addColumns(batch);
    addLabels(labels, batch.labels, batch.length);
  }
  if (o.signal?.aborted) throw o.signal.reason;
  return { counts: coldStartCounts(counter, o, started), labelCounts: labels };
}

/**
 * The training part read once into memory (about 130 bytes a row with the default spec: 20 indices,
 * 12 field hashes, the label), its values counted from the field hashes kept in the batch: no second
 * read of the click log. Memory is bounded by `maxRows`: of a longer part only the most recent rows are
 * held (the search runs on them), its values counted from the stream as it passes.
 */
export async function readTrainingRows(
  train: Pick<SplitPart, 'read' | 'rows'>,
  o: ReadOptions & { maxRows: number },
): Promise<TrainingRowsInMemory> {
  const started = Date.now();
  const featurizer = createFeaturizer(o.featureSpec);
  // Sized once when the row count is known (no down-sampling): the arrays are not grown by doubling
  // (spare capacity up to the rows' own size, and a copy at each step) while the part is read.
  const initialRows = o.ftrl.negativeSamplingRate < 1 ? 1024 : Math.min(train.rows, o.maxRows);
  // Shared: the search's trial thread reads the rows in place.
  const builder = new FeaturizedBatchBuilder(featurizer, initialRows, { keepLast: o.maxRows, shared: true });
  // Rows may be dropped only when the part (counted before any negative down-sampling) is longer.
  const counter = o.ftrl.minValueCount > 0 ? new ValueCounter(featurizer) : undefined;
  const countStreamed = counter !== undefined && train.rows > o.maxRows;
  // With negative down-sampling the rows are those the database kept.
  const labels = { rows: 0, clicks: 0 };
  for await (const columns of train.read({ signal: o.signal }).batches()) {
    builder.addBatch(columns);
    addLabels(labels, columns.labels, columns.length);
    if (countStreamed) counter.addColumns(columns);
  }
  if (o.signal?.aborted) throw o.signal.reason;
  const batch = builder.build();
  const complete = builder.dropped === 0;
  const inMemory = { rows: batch.rows, droppedRows: builder.dropped, maxRows: o.maxRows, bytes: batchBytes(batch) };
  o.logger.info(
    { inMemory },
    complete
      ? `training part in memory: ${batch.rows} rows, ${(inMemory.bytes / 1e6).toFixed(1)} MB`
      : `training part longer than TRAIN_MAX_ROWS_IN_MEMORY (${o.maxRows}): its most recent ${batch.rows} rows held (${(inMemory.bytes / 1e6).toFixed(1)} MB) for the search, the refit reads it again`,
  );
  if (counter === undefined) return { batch, complete, labelCounts: labels };
  if (!countStreamed) counter.addBatch(batch);
  const counts = coldStartCounts(counter, o, started);
  return {
    batch: refeaturizeBatch(batch, createFeaturizer(o.featureSpec, { vocabulary: counts.vocabulary }), {
      inPlace: true,
    }),
    counts,
    complete,
    labelCounts: labels,
  };
}

/** Bytes of a batch's typed arrays (indices, labels, truth, field hashes). */
function batchBytes(b: FeaturizedBatch): number {
  const hashes = b.lineage?.segments.reduce((sum, seg) => sum + seg.fieldHashes.byteLength, 0) ?? 0;
  return b.indices.byteLength + b.labels.byteLength + (b.trueCtr?.byteLength ?? 0) + hashes;
}
