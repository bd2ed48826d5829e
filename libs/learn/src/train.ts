import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type ArtifactInput,
  type FeatureSpec,
  type Featurizer,
  FieldOverride,
  type Vocabulary,
} from '@fallback-ctr/model';
import { parseOrThrow } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { invalidOptions, LearnError, LearnErrorCode } from './errors.js';
import {
  type BatchSource,
  checkLabel,
  type FeaturizedBatch,
  type LabeledImpression,
  refeaturize,
  validateBatch,
} from './featurized-batch.js';
import {
  baseRateLogOdds,
  createFtrl,
  type Ftrl,
  type FtrlCheckpoint,
  FtrlOptionsSchema,
  TRAIN_DEFAULTS,
} from './ftrl.js';
import { clipProbability } from './metrics.js';
import { createPrng } from './prng.js';
import { RareTokenDraws } from './rare-token-draws.js';

export const TrainOptionsSchema = FtrlOptionsSchema.extend({
  passes: z.number().int().min(1).max(100).default(TRAIN_DEFAULTS.passes),
  /** Fraction w of negatives kept (all clicks are kept); 1 = no down-sampling. */
  negativeSamplingRate: z.number().gt(0).lte(1).default(1),
  /**
   * The rows were already down-sampled at negativeSamplingRate before they got here (the click-log
   * reader does it in the database, by a hash of the impression id): no draw here, the rate only
   * re-calibrates the model. The same non-clicks are then left out of every pass.
   */
  negativesSampledUpstream: z.boolean().default(false),
  /** Seed of the down-sampling draws: same seed + same rows = same model. */
  seed: z.number().int().default(0),
  /**
   * Share of (row, field) pairs trained as if the field were missing. Without it the "missing" value
   * of a field is never seen in training, its weight stays 0, and an impression that omits a field is
   * scored as if the field's average effect were 0, which can be far off (see the README).
   */
  missingRate: z.number().min(0).max(0.5).default(TRAIN_DEFAULTS.missingRate),
  /**
   * Share of (row, field) pairs trained as the field's rare token (the value a vocabulary gives to
   * values it does not hold), so that every field's rare token is learned, not only those of fields
   * that had rare values in the window. missingRate + rareRate ≤ 0.5.
   */
  rareRate: z.number().min(0).max(0.5).default(TRAIN_DEFAULTS.rareRate),
  /**
   * Draws the rare-token rows per value instead (ValueCounter.rareTokenDraws: each kept value gives the
   * rare token about the same number of rows, so a few popular values do not decide what it learns).
   * Needs the rows' field hashes: not for trainOnFeaturizedRows.
   */
  rareTokenDraws: z.instanceof(RareTokenDraws).optional(),
  /**
   * The bias's start in log-odds, or 'base-rate': baseRateLogOdds of the rows trained on (after
   * down-sampling), for the entry points that hold their rows (trainOnBatch, trainOnBatchWithProgress,
   * so each trial of the search starts at its own rows' rate). Streams are counted by the caller.
   */
  initialBias: z.union([z.number().finite(), z.literal('base-rate')]).default(0),
}).refine((o) => o.missingRate + o.rareRate <= 0.5, {
  message: 'missingRate + rareRate must be at most 0.5',
  path: ['rareRate'],
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
  /**
   * `onProgress` is also called after about this many rows of a pass (checked every 4,096 rows), so
   * a short run still reports a learning curve. Default: by time only.
   */
  progressEveryRows?: number;
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
  /** The vocabulary of the featurizer the rows went through (toArtifactInput writes it into the artifact). */
  readonly vocabulary?: Vocabulary;
}

/** Rows to train on: an iterable (an array when passes > 1), or a function that opens the stream anew per pass. */
export type RowSource =
  | Iterable<LabeledImpression>
  | AsyncIterable<LabeledImpression>
  | (() => Iterable<LabeledImpression> | AsyncIterable<LabeledImpression>);

export function parseTrainOptions(input: TrainOptionsInput): TrainOptions {
  return parseOrThrow(TrainOptionsSchema, input, invalidOptions('training'));
}

function rowLoss(p: number, y: number): number {
  const q = clipProbability(p);
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
}

/**
 * Draws which fields of the next row are trained as missing or as their rare token (see `missingRate`,
 * `rareRate`) into `mask` (FieldOverride codes); returns the mask, or undefined when no field was drawn
 * (the common case: no work for the featurizer). One uniform per field.
 */
export function drawFieldOverrides(
  mask: Uint8Array,
  missingRate: number,
  rareRate: number,
  rand: () => number,
  perValue?: { draws: RareTokenDraws; hashes: Int32Array; offset: number },
): Uint8Array | undefined {
  if (missingRate <= 0 && rareRate <= 0) return undefined;
  let any = false;
  for (let i = 0; i < mask.length; i++) {
    const u = rand();
    const rare =
      perValue === undefined ? rareRate : perValue.draws.rate(i, perValue.hashes[perValue.offset + i] as number);
    const code = u < missingRate ? FieldOverride.MISSING : u < missingRate + rare ? FieldOverride.RARE : 0;
    mask[i] = code;
    any ||= code !== 0;
  }
  return any ? mask : undefined;
}

/** drawFieldOverrides without rare tokens. */
export function drawMissingFields(mask: Uint8Array, missingRate: number, rand: () => number): Uint8Array | undefined {
  return drawFieldOverrides(mask, missingRate, 0, rand);
}

/**
 * THE training loop, shared by every entry point: one object per fit holds the learner, the seeded
 * draws (down-sampling, then field overrides, in that order per row), the pass accounting and the
 * progress clock. Entry points only differ in how they get a row's indices:
 *   for each row: label → admit(label)? → overrides() → (featurise with them) → learn(indices, label)
 */
class TrainingLoop {
  readonly ftrl: Ftrl;
  readonly passes: PassReport[] = [];
  private readonly rate: number;
  private readonly rand: () => number;
  private readonly overrideRand: () => number;
  private readonly mask: Uint8Array;
  private readonly started = Date.now();
  private readonly interval: number;
  private readonly everyRows: number;
  private pass = 0;
  private passStarted = 0;
  private nextReport = 0;
  private nextRows = 0;
  private n = 0;
  private pos = 0;
  private loss = 0;
  private totalRows = 0;
  private readonly span: { dataFrom?: Date; dataTo?: Date } = {};

  constructor(
    readonly options: TrainOptions,
    fieldCount: number,
    private readonly hooks: TrainHooks = {},
    labels?: ArrayLike<number>,
  ) {
    this.rate = options.negativesSampledUpstream ? 1 : options.negativeSamplingRate;
    this.ftrl = createFtrl({ ...options, initialBias: initialBias(options, this.rate, labels) });
    this.rand = createPrng(options.seed);
    this.overrideRand = createPrng(options.seed + 1);
    this.mask = new Uint8Array(fieldCount);
    this.interval = hooks.progressIntervalMs ?? 10_000;
    this.everyRows = hooks.progressEveryRows ?? Number.POSITIVE_INFINITY;
  }

  /** The pass under way, 1-based. */
  get currentPass(): number {
    return this.pass;
  }

  get overridesFields(): boolean {
    return this.options.missingRate > 0 || this.options.rareRate > 0;
  }

  /** The streams of the passes in turn, each opened (a function: opened anew) before its pass begins. */
  *eachPass<S>(source: S | (() => S)): Generator<S> {
    for (let pass = 1; pass <= this.options.passes; pass++) {
      const stream = typeof source === 'function' ? (source as () => S)() : source;
      this.beginPass(pass);
      yield stream;
    }
  }

  beginPass(pass: number): void {
    this.pass = pass;
    this.passStarted = Date.now();
    this.nextReport = this.passStarted + this.interval;
    this.nextRows = this.everyRows;
    this.n = 0;
    this.pos = 0;
    this.loss = 0;
  }

  /** The negative down-sampling draw: false for a non-click left out of this pass. */
  admit(label: number): boolean {
    return !(label === 0 && this.rate < 1 && this.rand() >= this.rate);
  }

  /** True when the draws need the row's field hashes (rare-token rows drawn per value). */
  get drawsPerValue(): boolean {
    return this.options.rareTokenDraws !== undefined;
  }

  /**
   * The fields to force for the admitted row (undefined: featurise as given); `hashes[offset..)` are the
   * row's field hashes, needed when rare-token rows are drawn per value.
   */
  overrides(hashes?: Int32Array, offset = 0): Uint8Array | undefined {
    const draws = this.options.rareTokenDraws;
    return drawFieldOverrides(
      this.mask,
      this.options.missingRate,
      this.options.rareRate,
      this.overrideRand,
      draws === undefined || hashes === undefined ? undefined : { draws, hashes, offset },
    );
  }

  learn(indices: Uint32Array, start: number, width: number, label: number): void {
    const p = this.ftrl.update(indices, start, width, label);
    this.loss += rowLoss(p, label);
    this.n++;
    this.pos += label;
    this.totalRows++;
  }

  /** True when a progress report is due by rows or time (both looked at once per CLOCK_EVERY rows). */
  reportDue(): boolean {
    return (
      this.hooks.onProgress !== undefined &&
      (this.n & (CLOCK_EVERY - 1)) === 0 &&
      (this.n >= this.nextRows || Date.now() >= this.nextReport)
    );
  }

  async report(): Promise<void> {
    await this.hooks.onProgress?.(this.progress(false));
    this.nextReport = Date.now() + this.interval;
    this.nextRows = this.n + this.everyRows;
  }

  /** Closes the pass; returns the end-of-pass progress for the hook. */
  endPass(): TrainProgress {
    const progress = this.progress(true);
    this.passes.push({
      pass: this.pass,
      rows: this.n,
      positives: this.pos,
      progressiveLogloss: progress.progressiveLogloss,
    });
    return progress;
  }

  async endPassAndReport(): Promise<void> {
    const progress = this.endPass();
    await this.hooks.onProgress?.(progress);
  }

  /** Records the first pass's first and last served-at times: the training window the artifact names. */
  noteServedAt(servedAt: Date | undefined): void {
    if (this.pass !== 1 || servedAt === undefined) return;
    this.span.dataFrom ??= servedAt;
    this.span.dataTo = servedAt;
  }

  /** The fit; `span` defaults to the rows' served-at times seen by noteServedAt. */
  result(vocabulary: Vocabulary | undefined, span: { dataFrom?: Date; dataTo?: Date } = this.span): TrainResult {
    return {
      ftrl: this.ftrl,
      options: this.options,
      passes: this.passes,
      ...(span.dataFrom ? { dataFrom: span.dataFrom } : {}),
      ...(span.dataTo ? { dataTo: span.dataTo } : {}),
      ...(vocabulary ? { vocabulary } : {}),
    };
  }

  private progress(passDone: boolean): TrainProgress {
    const now = Date.now();
    return {
      pass: this.pass,
      passes: this.options.passes,
      rows: this.n,
      positives: this.pos,
      progressiveLogloss: this.n > 0 ? this.loss / this.n : Number.NaN,
      totalRows: this.totalRows,
      passElapsedMs: now - this.passStarted,
      elapsedMs: now - this.started,
      passDone,
    };
  }
}

/** The bias's start: the given number, or the log-odds of `labels` as the learner sees them (non-clicks kept at `rate`). */
function initialBias(options: TrainOptions, rate: number, labels: ArrayLike<number> | undefined): number {
  if (options.initialBias !== 'base-rate') return options.initialBias;
  if (labels === undefined) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      "initialBias 'base-rate' needs the rows in memory (trainOnBatch); for a stream, give baseRateLogOdds(clicks, rows) of the training part",
    );
  }
  let clicks = 0;
  for (let r = 0; r < labels.length; r++) clicks += labels[r] as number;
  return baseRateLogOdds(clicks, labels.length, rate);
}

function checkHashSpace(size: number, options: TrainOptions): void {
  if (size !== 2 ** options.hashBits) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      `hashBits ${options.hashBits} does not match the feature spec's hash space (${size} buckets)`,
    );
  }
}

function checkDrawFields(options: TrainOptions, fieldCount: number): void {
  const draws = options.rareTokenDraws;
  if (draws !== undefined && draws.fieldCount !== fieldCount) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      `rareTokenDraws were counted over ${draws.fieldCount} fields, the rows have ${fieldCount}`,
    );
  }
}

function checkRepeatable(source: unknown, passes: number): void {
  if (passes > 1 && typeof source !== 'function' && !Array.isArray(source)) {
    throw new LearnError(
      LearnErrorCode.SOURCE_NOT_REPEATABLE,
      `${passes} passes were asked of a stream that may be one-shot; pass an array or a function that opens the stream for each pass`,
    );
  }
}

/**
 * A batch being fitted: the loop, and how row r is learned (its indices as stored, or featurised again
 * from its field hashes when fields are forced). Shared by trainOnBatch and trainOnBatchWithProgress.
 */
class BatchFit {
  readonly loop: TrainingLoop;
  private readonly forced: Uint32Array;
  private readonly valueHashes: Int32Array | undefined;

  constructor(
    readonly batch: FeaturizedBatch,
    readonly options: TrainOptions,
    hooks: TrainHooks = {},
  ) {
    const lineage = batch.lineage;
    this.loop = new TrainingLoop(options, lineage?.fieldCount ?? 0, hooks, batch.labels);
    validateBatch(batch, this.loop.ftrl.size);
    if ((this.loop.overridesFields || this.loop.drawsPerValue) && lineage === undefined) {
      throw new LearnError(
        LearnErrorCode.OPTIONS_INVALID,
        'missingRate / rareRate need a batch that keeps its field hashes (build it with FeaturizedBatchBuilder, and select or append columns with selectColumns / appendColumns)',
      );
    }
    checkDrawFields(options, lineage?.fieldCount ?? 0);
    this.forced = new Uint32Array(batch.width);
    // Per-value draws look a row's values up by the first segment's field hashes (every segment has the same fields).
    this.valueHashes = lineage?.segments[0]?.fieldHashes;
  }

  /** Row r through the loop: the down-sampling draw, the field overrides, the update. */
  row(r: number): void {
    const { batch, loop } = this;
    const y = batch.labels[r] as number;
    if (!loop.admit(y)) return;
    const lineage = batch.lineage;
    const mask = loop.overrides(this.valueHashes, r * (lineage?.fieldCount ?? 0));
    if (mask === undefined || lineage === undefined) loop.learn(batch.indices, r * batch.width, batch.width, y);
    else {
      refeaturize(lineage, r, mask, this.forced);
      loop.learn(this.forced, 0, batch.width, y);
    }
  }

  result(): TrainResult {
    const { batch } = this;
    return this.loop.result(batch.lineage?.vocabulary, { dataFrom: batch.dataFrom, dataTo: batch.dataTo });
  }
}

/**
 * Trains FTRL-Proximal on pre-featurised rows, in row order, for `passes` passes. With missingRate or
 * rareRate > 0 the batch must carry its lineage (FeaturizedBatchBuilder keeps it), so that a row with
 * fields forced is featurised again from its field hashes, crosses included.
 */
export function trainOnBatch(
  batch: FeaturizedBatch,
  input: TrainOptionsInput,
  hooks: { afterPass?: (pass: number, ftrl: Ftrl) => void } = {},
): TrainResult {
  const fit = new BatchFit(batch, parseTrainOptions(input));
  for (let pass = 1; pass <= fit.options.passes; pass++) {
    fit.loop.beginPass(pass);
    for (let r = 0; r < batch.rows; r++) fit.row(r);
    fit.loop.endPass();
    hooks.afterPass?.(pass, fit.loop.ftrl);
  }
  return fit.result();
}

/**
 * trainOnBatch with progress reports (the trainer's refit of the rows its search read into memory):
 * `hooks.onProgress` is awaited at its interval and at the end of each pass, as trainOnRows does.
 * Same batch + same options → the same model as trainOnBatch.
 */
export async function trainOnBatchWithProgress(
  batch: FeaturizedBatch,
  input: TrainOptionsInput,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const fit = new BatchFit(batch, parseTrainOptions(input), hooks);
  for (let pass = 1; pass <= fit.options.passes; pass++) {
    fit.loop.beginPass(pass);
    for (let r = 0; r < batch.rows; r++) {
      fit.row(r);
      if (fit.loop.reportDue()) await fit.loop.report();
    }
    await fit.loop.endPassAndReport();
  }
  return fit.result();
}

/**
 * trainOnBatchWithProgress while the number of passes is still being chosen elsewhere (the search's
 * last rung, on another thread): trains up to `input.passes` passes, keeping a checkpoint after each,
 * and ends at the pass `passes` resolves to. The result is the model trainOnBatchWithProgress gives
 * with that many passes, bit for bit: a fit's first p passes are a p-pass fit's (the same rows, the
 * same draws in the same order). Progress is held until the passes are known, then reported for
 * those passes only, with `passes` the chosen count; each held report gives the event loop a turn, so
 * the answer can arrive. A rejected `passes` is thrown.
 */
export async function trainOnBatchUntil(
  batch: FeaturizedBatch,
  input: TrainOptionsInput,
  passes: Promise<number>,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const options = parseTrainOptions(input);
  let chosen: number | undefined;
  let failed = false;
  passes.then(
    (p) => {
      chosen = p;
    },
    () => {
      failed = true;
    },
  );
  const held: TrainProgress[] = [];
  const report = async (p: TrainProgress, n: number) => {
    if (p.pass <= n) await hooks.onProgress?.({ ...p, passes: n });
  };
  const gated: TrainHooks = {
    ...hooks,
    onProgress: async (p) => {
      if (failed) await passes;
      if (chosen === undefined) {
        held.push(p);
        await nextTurn();
        return;
      }
      for (const h of held.splice(0)) await report(h, chosen);
      await report(p, chosen);
    },
  };
  const fit = new BatchFit(batch, options, gated);
  const checkpoints = new Map<number, FtrlCheckpoint>();
  let done = 0;
  training: for (let pass = 1; pass <= options.passes; pass++) {
    if (chosen !== undefined && pass > chosen) break;
    fit.loop.beginPass(pass);
    for (let r = 0; r < batch.rows; r++) {
      fit.row(r);
      if (fit.loop.reportDue()) {
        await fit.loop.report();
        // Known now, and this pass is past it: the rest of the pass would be thrown away.
        if (chosen !== undefined && pass > chosen) break training;
      }
    }
    await fit.loop.endPassAndReport();
    done = pass;
    if (chosen === undefined && pass < options.passes) checkpoints.set(pass, fit.loop.ftrl.checkpoint());
  }
  const n = await passes;
  if (!Number.isInteger(n) || n < 1 || n > options.passes) {
    throw new LearnError(LearnErrorCode.OPTIONS_INVALID, `${n} passes chosen; the fit trains 1..${options.passes}`);
  }
  for (const h of held.splice(0)) await report(h, n);
  const result = fit.result();
  const at = { ...result, options: { ...options, passes: n }, passes: result.passes.slice(0, n) };
  if (n === done) return at;
  return { ...at, ftrl: createFtrl(fit.loop.ftrl.options, checkpoints.get(n)) };
}

/**
 * What trainOnRows and trainOnBatches set up alike: the loop, its options checked against the featurizer and
 * the source, and the two buffers every row reuses (its indices, and its field hashes).
 */
function startStreamFit(
  source: RowSource | BatchSource,
  featurizer: Featurizer,
  input: TrainOptionsInput,
  hooks: TrainHooks,
) {
  const options = parseTrainOptions(input);
  checkHashSpace(featurizer.size, options);
  checkRepeatable(source, options.passes);
  checkDrawFields(options, featurizer.fieldCount);
  return {
    loop: new TrainingLoop(options, featurizer.fieldCount, hooks),
    buf: new Uint32Array(featurizer.maxIndices),
    hashes: new Int32Array(featurizer.fieldCount),
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
  const { loop, buf, hashes } = startStreamFit(source, featurizer, input, hooks);
  for (const stream of loop.eachPass(source)) {
    let seen = 0;
    for await (const row of stream) {
      const y = checkLabel(row.label, seen++);
      loop.noteServedAt(row.servedAt);
      if (!loop.admit(y)) continue;
      let width: number;
      if (loop.drawsPerValue) {
        featurizer.hashFields(row.impression, hashes, 0);
        width = featurizer.indicesFromHashes(hashes, 0, buf, loop.overrides(hashes, 0));
      } else width = featurizer.featurize(row.impression, buf, loop.overrides());
      loop.learn(buf, 0, width, y);
      if (loop.reportDue()) await loop.report();
    }
    await loop.endPassAndReport();
  }
  return loop.result(featurizer.vocabulary);
}

/**
 * Trains from column batches (the click-log reader's), featurising each row straight from the columns:
 * no object per row, no await per row. Same rows + same seed gives the same model as trainOnRows.
 * For more than one pass, give a function that re-opens the stream (or a re-iterable collection).
 */
export async function trainOnBatches(
  source: BatchSource,
  featurizer: Featurizer,
  input: TrainOptionsInput,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const { loop, buf, hashes } = startStreamFit(source, featurizer, input, hooks);
  let dataFrom: number | undefined;
  let dataTo: number | undefined;
  for (const stream of loop.eachPass(source)) {
    let seen = 0;
    for await (const batch of stream) {
      const { labels, servedAtMs } = batch;
      if (loop.currentPass === 1 && servedAtMs !== undefined && batch.length > 0) {
        dataFrom ??= servedAtMs[0] as number;
        dataTo = servedAtMs[batch.length - 1] as number;
      }
      for (let r = 0; r < batch.length; r++) {
        const y = checkLabel(labels[r] as number, seen++);
        if (!loop.admit(y)) continue;
        featurizer.hashColumnsRow(batch, r, hashes, 0);
        const width = featurizer.indicesFromHashes(hashes, 0, buf, loop.overrides(hashes, 0));
        loop.learn(buf, 0, width, y);
        if (loop.reportDue()) await loop.report();
      }
    }
    await loop.endPassAndReport();
  }
  return {
    ftrl: loop.ftrl,
    options: loop.options,
    passes: loop.passes,
    ...(dataFrom !== undefined ? { dataFrom: new Date(dataFrom) } : {}),
    ...(dataTo !== undefined ? { dataTo: new Date(dataTo) } : {}),
    ...(featurizer.vocabulary ? { vocabulary: featurizer.vocabulary } : {}),
  };
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
 * that re-opens the stream. Indices cannot be featurised again, so missingRate and rareRate must be 0.
 */
export async function trainOnFeaturizedRows(
  source: FeaturizedRowSource,
  input: TrainOptionsInput,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const options = parseTrainOptions(input);
  checkRepeatable(source, options.passes);
  const loop = new TrainingLoop(options, 0, hooks);
  if (loop.overridesFields || loop.drawsPerValue) {
    throw new LearnError(
      LearnErrorCode.OPTIONS_INVALID,
      'missingRate / rareRate need rows that can be featurised again: train from raw rows (trainOnRows) or a batch (trainOnBatch)',
    );
  }
  const size = loop.ftrl.size;
  for (const stream of loop.eachPass(source)) {
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
      loop.noteServedAt(row.servedAt);
      if (!loop.admit(y)) continue;
      loop.learn(row.indices, 0, width, y);
      if (loop.reportDue()) await loop.report();
    }
    await loop.endPassAndReport();
  }
  return loop.result(undefined);
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
        missingRate: options.missingRate,
        rareRate: options.rareRate,
        ...(result.vocabulary ? { minValueCount: result.vocabulary.minCount } : {}),
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
    ...(result.vocabulary ? { vocabulary: result.vocabulary } : {}),
  };
}
