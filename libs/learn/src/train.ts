import type { ArtifactInput, FeatureSpec, Featurizer } from '@fallback-ctr/model';
import { z } from 'zod';
import { LearnError, LearnErrorCode } from './errors.js';
import { checkLabel, type FeaturizedBatch, type LabeledImpression, validateBatch } from './featurized-batch.js';
import { createFtrl, type Ftrl, FtrlOptionsSchema } from './ftrl.js';
import { clipProbability } from './metrics.js';
import { createPrng } from './prng.js';

export const TrainOptionsSchema = FtrlOptionsSchema.extend({
  passes: z.number().int().min(1).max(100).default(1),
  /** Fraction w of negatives kept (all clicks are kept); 1 = no down-sampling. */
  negativeSamplingRate: z.number().gt(0).lte(1).default(1),
  /** Seed of the down-sampling draws: same seed + same rows = same model. */
  seed: z.number().int().default(0),
  /**
   * Share of (row, field) pairs trained as if the field were missing. Without it the "missing" value
   * of a field is never seen in training, its weight stays 0, and an impression that omits a field is
   * scored as if the field's average effect were 0, which can be far off (see the README).
   */
  missingRate: z.number().min(0).max(0.5).default(0),
});
export type TrainOptions = z.infer<typeof TrainOptionsSchema>;
export type TrainOptionsInput = z.input<typeof TrainOptionsSchema>;

export interface PassReport {
  pass: number;
  /** Rows trained on in this pass (after down-sampling) and clicks among them. */
  rows: number;
  positives: number;
  /** Progressive-validation logloss: each row scored before it was learned (on the down-sampled stream, not re-calibrated). */
  progressiveLogloss: number;
}

/** Where training stands, reported by trainOnRows at a steady interval and at the end of each pass. */
export interface TrainProgress extends PassReport {
  passes: number;
  /** Rows trained on over all passes so far. */
  totalRows: number;
  /** Since this pass started, and since training started. */
  passElapsedMs: number;
  elapsedMs: number;
  /** True for the report at the end of a pass. */
  passDone: boolean;
}

export interface TrainHooks {
  /** How often `onProgress` is called during a pass (it is also called at the end of each pass). */
  progressIntervalMs?: number;
  /** Awaited before training goes on; throwing from it stops training with that error. */
  onProgress?: (progress: TrainProgress) => Promise<void> | void;
}

/** Rows between two looks at the clock, so progress reporting costs nothing measurable per row. */
const CLOCK_EVERY = 4_096;

export interface TrainResult {
  readonly ftrl: Ftrl;
  readonly options: TrainOptions;
  readonly passes: readonly PassReport[];
  readonly dataFrom?: Date;
  readonly dataTo?: Date;
}

/** Rows to train on: an iterable (an array when passes > 1), or a function that opens the stream anew per pass. */
export type RowSource =
  | Iterable<LabeledImpression>
  | AsyncIterable<LabeledImpression>
  | (() => Iterable<LabeledImpression> | AsyncIterable<LabeledImpression>);

export function parseTrainOptions(input: TrainOptionsInput): TrainOptions {
  const r = TrainOptionsSchema.safeParse(input);
  if (!r.success) {
    throw new LearnError(LearnErrorCode.OPTIONS_INVALID, `Invalid training options:\n${z.prettifyError(r.error)}`, {
      cause: r.error,
    });
  }
  return r.data;
}

function rowLoss(p: number, y: number): number {
  const q = clipProbability(p);
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
}

/**
 * Draws which fields of the next row are trained as missing (see `missingRate`) into `mask`; returns
 * the mask, or undefined when no field was drawn (the common case: no work for the featurizer).
 */
export function drawMissingFields(mask: Uint8Array, missingRate: number, rand: () => number): Uint8Array | undefined {
  if (missingRate <= 0) return undefined;
  let any = false;
  for (let i = 0; i < mask.length; i++) {
    const drop = rand() < missingRate;
    mask[i] = drop ? 1 : 0;
    any ||= drop;
  }
  return any ? mask : undefined;
}

/** Trains FTRL-Proximal on pre-featurised rows, in row order, for `passes` passes. */
export function trainOnBatch(batch: FeaturizedBatch, input: TrainOptionsInput): TrainResult {
  const options = parseTrainOptions(input);
  const ftrl = createFtrl(options);
  validateBatch(batch, ftrl.size);
  const { rows, width, indices, labels } = batch;
  const rate = options.negativeSamplingRate;
  const rand = createPrng(options.seed);
  const passes: PassReport[] = [];
  for (let pass = 1; pass <= options.passes; pass++) {
    let n = 0;
    let pos = 0;
    let loss = 0;
    for (let r = 0, off = 0; r < rows; r++, off += width) {
      const y = labels[r] as number;
      if (y === 0 && rate < 1 && rand() >= rate) continue;
      const p = ftrl.update(indices, off, width, y);
      loss += rowLoss(p, y);
      n++;
      pos += y;
    }
    passes.push({ pass, rows: n, positives: pos, progressiveLogloss: n > 0 ? loss / n : Number.NaN });
  }
  return {
    ftrl,
    options,
    passes,
    ...(batch.dataFrom ? { dataFrom: batch.dataFrom } : {}),
    ...(batch.dataTo ? { dataTo: batch.dataTo } : {}),
  };
}

/**
 * Trains from labelled impressions, featurising each on the fly (one reused buffer). For more than one
 * pass, give a function that re-opens the stream (or a re-iterable collection); a one-shot async
 * iterator cannot be read twice. Same rows + same seed gives the same model as trainOnBatch.
 */
export async function trainOnRows(
  source: RowSource,
  featurizer: Featurizer,
  input: TrainOptionsInput,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const options = parseTrainOptions(input);
  if (featurizer.size !== 2 ** options.hashBits) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      `hashBits ${options.hashBits} does not match the feature spec's hash space (${featurizer.size} buckets)`,
    );
  }
  if (options.passes > 1 && typeof source !== 'function' && !Array.isArray(source)) {
    throw new LearnError(
      LearnErrorCode.SOURCE_NOT_REPEATABLE,
      `${options.passes} passes were asked of a stream that may be one-shot; pass an array or a function that opens the stream for each pass`,
    );
  }
  const ftrl = createFtrl(options);
  const buf = new Uint32Array(featurizer.maxIndices);
  const rate = options.negativeSamplingRate;
  const rand = createPrng(options.seed);
  const missingRand = createPrng(options.seed + 1);
  const missingMask = new Uint8Array(featurizer.spec.fields.length);
  const passes: PassReport[] = [];
  const { onProgress } = hooks;
  const interval = hooks.progressIntervalMs ?? 10_000;
  const started = Date.now();
  let totalRows = 0;
  let dataFrom: Date | undefined;
  let dataTo: Date | undefined;
  for (let pass = 1; pass <= options.passes; pass++) {
    const stream = typeof source === 'function' ? source() : source;
    const passStarted = Date.now();
    let nextReport = passStarted + interval;
    let n = 0;
    let pos = 0;
    let loss = 0;
    let seen = 0;
    const progress = (passDone: boolean): TrainProgress => ({
      pass,
      passes: options.passes,
      rows: n,
      positives: pos,
      progressiveLogloss: n > 0 ? loss / n : Number.NaN,
      totalRows,
      passElapsedMs: Date.now() - passStarted,
      elapsedMs: Date.now() - started,
      passDone,
    });
    for await (const row of stream) {
      const y = checkLabel(row.label, seen++);
      if (pass === 1 && row.servedAt !== undefined) {
        if (dataFrom === undefined) dataFrom = row.servedAt;
        dataTo = row.servedAt;
      }
      if (y === 0 && rate < 1 && rand() >= rate) continue;
      const forceMissing = drawMissingFields(missingMask, options.missingRate, missingRand);
      const width = featurizer.featurize(row.impression, buf, forceMissing);
      const p = ftrl.update(buf, 0, width, y);
      loss += rowLoss(p, y);
      n++;
      pos += y;
      totalRows++;
      if (onProgress !== undefined && (n & (CLOCK_EVERY - 1)) === 0 && Date.now() >= nextReport) {
        await onProgress(progress(false));
        nextReport = Date.now() + interval;
      }
    }
    const report = progress(true);
    passes.push({ pass, rows: n, positives: pos, progressiveLogloss: report.progressiveLogloss });
    await onProgress?.(report);
  }
  return { ftrl, options, passes, ...(dataFrom ? { dataFrom } : {}), ...(dataTo ? { dataTo } : {}) };
}

/** A row already featurised: its indices (`indices[0..n)`, n defaulting to the array length) and label. */
export interface FeaturizedRow {
  indices: Uint32Array;
  n?: number;
  label: number;
  servedAt?: Date;
}

export type FeaturizedRowSource =
  | Iterable<FeaturizedRow>
  | AsyncIterable<FeaturizedRow>
  | (() => Iterable<FeaturizedRow> | AsyncIterable<FeaturizedRow>);

/**
 * Trains from (async) iterables of featurised rows (e.g. a featurising transform upstream). Same rows,
 * same seed → same model as trainOnBatch and trainOnRows. For passes > 1, give an array or a function
 * that re-opens the stream.
 */
export async function trainOnFeaturizedRows(
  source: FeaturizedRowSource,
  input: TrainOptionsInput,
): Promise<TrainResult> {
  const options = parseTrainOptions(input);
  if (options.passes > 1 && typeof source !== 'function' && !Array.isArray(source)) {
    throw new LearnError(
      LearnErrorCode.SOURCE_NOT_REPEATABLE,
      `${options.passes} passes were asked of a stream that may be one-shot; pass an array or a function that opens the stream for each pass`,
    );
  }
  const ftrl = createFtrl(options);
  const size = ftrl.size;
  const rate = options.negativeSamplingRate;
  const rand = createPrng(options.seed);
  const passes: PassReport[] = [];
  let dataFrom: Date | undefined;
  let dataTo: Date | undefined;
  for (let pass = 1; pass <= options.passes; pass++) {
    const stream = typeof source === 'function' ? source() : source;
    let n = 0;
    let pos = 0;
    let loss = 0;
    let seen = 0;
    for await (const row of stream) {
      const y = checkLabel(row.label, seen);
      const width = row.n ?? row.indices.length;
      for (let k = 0; k < width; k++) {
        if ((row.indices[k] as number) >= size) {
          throw new LearnError(
            LearnErrorCode.INPUT_INVALID,
            `row ${seen}: index ${row.indices[k]} is outside the model's hash space of ${size}; the feature spec and the learner's hashBits differ`,
          );
        }
      }
      seen++;
      if (pass === 1 && row.servedAt !== undefined) {
        if (dataFrom === undefined) dataFrom = row.servedAt;
        dataTo = row.servedAt;
      }
      if (y === 0 && rate < 1 && rand() >= rate) continue;
      const p = ftrl.update(row.indices, 0, width, y);
      loss += rowLoss(p, y);
      n++;
      pos += y;
    }
    passes.push({ pass, rows: n, positives: pos, progressiveLogloss: n > 0 ? loss / n : Number.NaN });
  }
  return { ftrl, options, passes, ...(dataFrom ? { dataFrom } : {}), ...(dataTo ? { dataTo } : {}) };
}

export interface ToArtifactInputOptions {
  featureSpec: FeatureSpec;
  /** Defaults to now. */
  createdAt?: Date;
  metrics?: Record<string, number>;
  notes?: Record<string, string | number | boolean | null>;
}

/** Turns a training result into the input of @fallback-ctr/model's serializeArtifact. */
export function toArtifactInput(result: TrainResult, opts: ToArtifactInputOptions): ArtifactInput {
  const { options, passes } = result;
  if (opts.featureSpec.hashBits !== options.hashBits) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      `the feature spec has hashBits ${opts.featureSpec.hashBits}, the model was trained with ${options.hashBits}`,
    );
  }
  const last = passes[passes.length - 1];
  const metrics: Record<string, number> = {};
  for (const p of passes)
    if (Number.isFinite(p.progressiveLogloss)) metrics[`progressive_logloss_pass_${p.pass}`] = p.progressiveLogloss;
  return {
    featureSpec: opts.featureSpec,
    bias: result.ftrl.bias(),
    weights: result.ftrl.weights(),
    negativeSamplingRate: options.negativeSamplingRate,
    training: {
      algorithm: 'ftrl-proximal',
      hyperparameters: {
        alpha: options.alpha,
        beta: options.beta,
        l1: options.l1,
        l2: options.l2,
        hashBits: options.hashBits,
        negativeSamplingRate: options.negativeSamplingRate,
      },
      rows: last?.rows ?? 0,
      positives: last?.positives ?? 0,
      passes: options.passes,
      seed: options.seed,
      ...(result.dataFrom ? { dataFrom: result.dataFrom.toISOString() } : {}),
      ...(result.dataTo ? { dataTo: result.dataTo.toISOString() } : {}),
      createdAt: (opts.createdAt ?? new Date()).toISOString(),
      metrics: { ...metrics, ...opts.metrics },
      ...(opts.notes ? { notes: opts.notes } : {}),
    },
  };
}
