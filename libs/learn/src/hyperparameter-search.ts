import { sigmoid } from '@fallback-ctr/model';
import { parseOrThrow } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { invalidOptions, LearnError, LearnErrorCode } from './errors.js';
import { type FeaturizedBatch, sliceRows } from './featurized-batch.js';
import type { Ftrl } from './ftrl.js';
import { clipProbability } from './metrics.js';
import { createPrng } from './prng.js';
import {
  parseTrainOptions,
  type TrainOptions,
  type TrainOptionsInput,
  type TrainResult,
  trainOnBatch,
} from './train.js';
import { TrialThread } from './trial-thread.js';

/**
 * The search space: a log grid per FTRL hyper-parameter. An axis with one value is pinned (the trainer
 * pins an axis when its FTRL_* variable is set). Passes are not an axis of the grid: every trial trains
 * up to `maxPasses` passes and is scored after each, so choosing passes costs nothing extra.
 */
export const SearchSpaceSchema = z.object({
  alpha: z.array(z.number().positive()).min(1).default([0.03, 0.1, 0.3, 1]),
  l1: z.array(z.number().nonnegative()).min(1).default([0, 0.3, 1, 3]),
  l2: z.array(z.number().nonnegative()).min(1).default([0, 1, 10]),
  /** Passes tried: 1..maxPasses (1 pins a single pass). */
  maxPasses: z.number().int().min(1).max(10).default(3),
});
export type SearchSpace = z.infer<typeof SearchSpaceSchema>;

/** Share of the training rows, at the end of the slice, held out to score the trials (strictly before the holdout). */
export const DEFAULT_VALIDATION_FRACTION = 0.2;

/**
 * The search's split of a time-ordered training batch: its last `validationFraction` of rows
 * (`validation`) score the candidates, the rows before them (`tune`) train them.
 */
export function validationSplit(
  train: FeaturizedBatch,
  validationFraction = DEFAULT_VALIDATION_FRACTION,
): { tune: FeaturizedBatch; validation: FeaturizedBatch; tuneClicks: number; validationClicks: number } {
  const start = train.rows - Math.floor(train.rows * validationFraction);
  const tune = sliceRows(train, 0, start);
  const validation = sliceRows(train, start, train.rows);
  return { tune, validation, tuneClicks: clicksOf(tune), validationClicks: clicksOf(validation) };
}

export const SearchOptionsSchema = z.object({
  space: SearchSpaceSchema.default(SearchSpaceSchema.parse({})),
  /** Share of the training rows, at the end of the slice, held out to score the trials (strictly before the holdout). */
  validationFraction: z.number().gt(0).lt(1).default(DEFAULT_VALIDATION_FRACTION),
  /**
   * Row updates the search may spend (excluding the refit), as a multiple of the training rows: the
   * cost of `budget` one-pass fits over the whole slice. Trials run in memory, on rows featurised
   * once, so the search costs far less wall time than as many fits streamed from the database.
   */
  budget: z.number().positive().default(6),
  /** Floor of the budget in row updates, so a small log still gets a real search (seconds of CPU). */
  minBudgetRowUpdates: z.number().int().nonnegative().default(3_000_000),
  /** At most this many successive-halving rungs. */
  maxRungs: z.number().int().min(1).max(6).default(4),
  /** Successive-halving rate: each rung keeps the best 1/eta of its trials and gives them eta× the rows. */
  eta: z.number().int().min(2).max(8).default(3),
  /** A rung trains on at least this many clicks (so small logs get fewer, larger rungs). */
  minRungClicks: z.number().int().positive().default(50),
  /** Seed of the order in which grid points are sampled when the budget cannot afford them all. */
  seed: z.number().int().default(0),
  /**
   * Use a worker thread (TrialThread, needs SearchHooks.onFinalist): every other candidate of a rung
   * trains there, and the last rung's lone trial too while the caller refits the winner. The same
   * trials, in the same order, with the same results as on one thread.
   */
  parallel: z.boolean().default(false),
});
export type SearchOptions = z.infer<typeof SearchOptionsSchema>;
export type SearchOptionsInput = z.input<typeof SearchOptionsSchema>;

/** One candidate's result at one rung: what an MLflow nested run records. */
export interface SearchTrial {
  /** 1-based, in the order trials ran. */
  id: number;
  /** 0-based successive-halving rung; the last rung's best trial wins. */
  rung: number;
  alpha: number;
  l1: number;
  l2: number;
  /** Passes with the lowest validation logloss (1..maxPasses). */
  passes: number;
  /** Validation logloss after each pass (index 0 = pass 1). */
  loglossByPass: number[];
  /** Lowest of loglossByPass. */
  validationLogloss: number;
  /** Validation logloss / entropy of the validation CTR (1 = base rate). */
  validationNe: number;
  /** Training rows of this rung (the most recent rows before the validation slice). */
  trainRows: number;
  validationRows: number;
  elapsedMs: number;
}

export interface SearchHooks {
  /** Awaited after each trial (e.g. to log it as a nested MLflow run tagged mlflow.parentRunId). */
  onTrial?: (trial: SearchTrial) => Promise<void> | void;
  /**
   * With `parallel`: called when the winner's α, λ1, λ2 are settled and only its passes remain to be
   * chosen (one candidate left before the last rung), with those passes as a promise the last rung,
   * on a worker thread, resolves (rejects if it fails). The caller may refit the winner meanwhile
   * (trainOnBatchUntil).
   */
  onFinalist?: (finalist: { alpha: number; l1: number; l2: number }, passes: Promise<number>) => void;
}

/** One trial: train rows [from, to) of the batch `passes` passes, scoring rows [validationFrom, end) after each. */
export interface TrialJob {
  alpha: number;
  l1: number;
  l2: number;
  from: number;
  to: number;
  validationFrom: number;
  passes: number;
  /** Added to every margin when scoring (log of the negative sampling rate). */
  offset: number;
}

export interface TrialOutcome {
  loglossByPass: number[];
  /** Rows trained on in each pass. */
  passRows: number[];
}

/** A trial, on whichever thread runs it: the same code, so the same numbers. */
export function runTrial(train: FeaturizedBatch, shared: TrainOptions, job: TrialJob): TrialOutcome {
  const rows = sliceRows(train, job.from, job.to);
  const validation = sliceRows(train, job.validationFrom, train.rows);
  const loglossByPass: number[] = [];
  const { alpha, l1, l2, passes } = job;
  const res = trainOnBatch(
    rows,
    { ...shared, alpha, l1, l2, passes },
    { afterPass: (_pass, ftrl) => loglossByPass.push(batchLogloss(ftrl, validation, job.offset)) },
  );
  return { loglossByPass, passRows: res.passes.map((p) => p.rows) };
}

/** 0-based pass with the lowest validation logloss (the first of equals). */
function bestPassOf(loglossByPass: readonly number[]): number {
  let best = 0;
  for (let p = 1; p < loglossByPass.length; p++) {
    if ((loglossByPass[p] as number) < (loglossByPass[best] as number)) best = p;
  }
  return best;
}

/** The chosen hyper-parameters and how they were found. */
export interface SearchResult {
  best: { alpha: number; l1: number; l2: number; passes: number };
  bestTrial: SearchTrial;
  trials: SearchTrial[];
  /**
   * Row updates spent by the search (refit excluded; a validation row scored counts as half an update),
   * and that as a multiple of the training rows (one-pass fits of the whole slice).
   */
  rowUpdates: number;
  costInFits: number;
  rungs: number;
  elapsedMs: number;
}

function parseSearchOptions(input: SearchOptionsInput): SearchOptions {
  return parseOrThrow(SearchOptionsSchema, input, invalidOptions('search'));
}

/** Mean logloss of the current model on `batch` (re-calibrated for down-sampling as the scorer does). */
function batchLogloss(ftrl: Ftrl, batch: FeaturizedBatch, offset: number): number {
  let sum = 0;
  for (let r = 0, off = 0; r < batch.rows; r++, off += batch.width) {
    const q = clipProbability(sigmoid(ftrl.margin(batch.indices, off, batch.width) + offset));
    sum -= batch.labels[r] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return sum / batch.rows;
}

function clicksOf(batch: FeaturizedBatch): number {
  let c = 0;
  for (let r = 0; r < batch.rows; r++) c += batch.labels[r] as number;
  return c;
}

function entropyOf(p: number): number {
  return p <= 0 || p >= 1 ? Number.NaN : -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

interface Plan {
  candidates: number;
  rungRows: number[];
}

/** Scoring a validation row costs about this share of a training row update (a sum, no state writes). */
const SCORE_COST = 0.5;

/**
 * Successive halving under a budget: rung k has ⌈c0 / eta^k⌉ trials on n / eta^(R−1−k) rows (the most
 * recent ones), each trained `maxPasses` passes and scored on the validation rows after each pass.
 * Picks the most rungs (up to maxRungs) whose first rung still holds `minRungClicks` clicks, then as
 * many initial candidates as the budget pays for (training updates + validation scoring).
 */
function plan(rows: number, clicks: number, validationRows: number, gridSize: number, o: SearchOptions): Plan {
  const ctr = rows > 0 ? clicks / rows : 0;
  const budgetUpdates = Math.max(o.budget * (rows + validationRows), o.minBudgetRowUpdates);
  let rungs = o.maxRungs;
  while (rungs > 1 && ctr * (rows / o.eta ** (rungs - 1)) < o.minRungClicks) rungs--;
  const rungRows = Array.from({ length: rungs }, (_, k) => Math.max(1, Math.floor(rows / o.eta ** (rungs - 1 - k))));
  const cost = (c0: number): number => {
    let total = 0;
    let c = c0;
    for (const n of rungRows) {
      total += c * o.space.maxPasses * (n + SCORE_COST * validationRows);
      c = Math.max(1, Math.ceil(c / o.eta));
    }
    return total;
  };
  let candidates = Math.min(gridSize, 1);
  while (candidates < gridSize && cost(candidates + 1) <= budgetUpdates) candidates++;
  return { candidates, rungRows };
}

/**
 * Chooses FTRL α, λ1, λ2 and the number of passes by validation logloss, with successive halving over
 * the log grid of `options.space` (pin an axis by giving it one value). `train` is the whole training
 * slice, time-ordered, featurised once (with lineage when `base` asks for missingRate/rareRate); its
 * last `validationFraction` of rows is the validation slice, the rest trains the trials (each rung
 * uses the most recent rows before the validation slice). `base` holds the options every trial shares
 * (hashBits, β, down-sampling, seed, field overrides). The refit of the winner on the whole slice is
 * the caller's (fitBest does it on a batch); the trainer records each trial through `hooks.onTrial`.
 */
export async function searchHyperparameters(
  train: FeaturizedBatch,
  base: TrainOptionsInput,
  options: SearchOptionsInput = {},
  hooks: SearchHooks = {},
): Promise<SearchResult> {
  const started = Date.now();
  const o = parseSearchOptions(options);
  const shared = parseTrainOptions(base);
  const { tune, validation, tuneClicks, validationClicks } = validationSplit(train, o.validationFraction);
  const nTune = tune.rows;
  const nValidation = validation.rows;
  if (nTune < 1 || nValidation < 1 || validationClicks === 0 || tuneClicks === 0) {
    throw new LearnError(
      LearnErrorCode.INPUT_INVALID,
      `the search needs clicks on both sides of the validation split: ${nTune} training rows with ${tuneClicks} clicks, ${nValidation} validation rows with ${validationClicks} clicks`,
    );
  }
  const entropy = entropyOf(validationClicks / nValidation);
  const offset = Math.log(shared.negativeSamplingRate);

  const grid: { alpha: number; l1: number; l2: number }[] = [];
  for (const alpha of o.space.alpha)
    for (const l1 of o.space.l1) for (const l2 of o.space.l2) grid.push({ alpha, l1, l2 });
  // A seeded shuffle decides which grid points run when the budget cannot afford them all.
  const rand = createPrng(o.seed);
  for (let i = grid.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [grid[i], grid[j]] = [grid[j] as (typeof grid)[number], grid[i] as (typeof grid)[number]];
  }
  const { candidates, rungRows } = plan(nTune, tuneClicks, nValidation, grid.length, o);
  let alive = grid.slice(0, candidates);
  const trials: SearchTrial[] = [];
  let rowUpdates = 0;
  let lastRung: SearchTrial[] = [];
  const last = rungRows.length - 1;
  // A second thread for the trials; the last rung's lone trial runs there, the caller refitting meanwhile.
  const thread = o.parallel && hooks.onFinalist ? TrialThread.start(train, shared) : undefined;
  try {
    for (let rung = 0; rung < rungRows.length; rung++) {
      // A lone survivor is the winner whatever the rungs before the last say; only the last rung (the
      // most rows) chooses its passes, and each trial trains from scratch: the rungs between are skipped.
      if (alive.length === 1 && rung < last) continue;
      const n = rungRows[rung] as number;
      const results: SearchTrial[] = [];
      const jobOf = (c: (typeof alive)[number]): TrialJob => ({
        ...c,
        from: nTune - n,
        to: nTune,
        validationFrom: nTune,
        passes: o.space.maxPasses,
        offset,
      });
      // Every other candidate of a rung trains on the thread meanwhile; results are taken in candidate order.
      const offloaded = new Map<number, Promise<TrialOutcome>>();
      if (thread !== undefined && alive.length > 1) {
        alive.forEach((c, i) => {
          if (i % 2 === 1) offloaded.set(i, thread.run(jobOf(c)));
        });
        for (const running of offloaded.values()) running.catch(() => undefined);
      }
      for (const [i, c] of alive.entries()) {
        const t0 = Date.now();
        const job = jobOf(c);
        let outcome: TrialOutcome;
        const elsewhere = offloaded.get(i);
        if (elsewhere !== undefined) outcome = await elsewhere;
        else if (thread !== undefined && rung === last && alive.length === 1) {
          const running = thread.run(job);
          let settle: { resolve: (passes: number) => void; reject: (error: unknown) => void } | undefined;
          const passes = new Promise<number>((resolve, reject) => {
            settle = { resolve, reject };
          });
          hooks.onFinalist?.(c, passes);
          try {
            outcome = await running;
          } catch (error) {
            settle?.reject(error);
            throw error;
          }
          settle?.resolve(bestPassOf(outcome.loglossByPass) + 1);
        } else outcome = runTrial(train, shared, job);
        rowUpdates += outcome.passRows.reduce((sum, rows) => sum + rows + SCORE_COST * nValidation, 0);
        const { loglossByPass } = outcome;
        const bestPass = bestPassOf(loglossByPass);
        const validationLogloss = loglossByPass[bestPass] as number;
        const trial: SearchTrial = {
          id: trials.length + 1,
          rung,
          ...c,
          passes: bestPass + 1,
          loglossByPass,
          validationLogloss,
          validationNe: validationLogloss / entropy,
          trainRows: n,
          validationRows: nValidation,
          elapsedMs: Date.now() - t0,
        };
        trials.push(trial);
        results.push(trial);
        await hooks.onTrial?.(trial);
      }
      results.sort((a, b) => a.validationLogloss - b.validationLogloss);
      lastRung = results;
      const keep = Math.max(1, Math.ceil(results.length / o.eta));
      alive = results.slice(0, keep).map(({ alpha, l1, l2 }) => ({ alpha, l1, l2 }));
    }
  } finally {
    await thread?.close();
  }
  const bestTrial = lastRung[0] as SearchTrial;
  return {
    best: { alpha: bestTrial.alpha, l1: bestTrial.l1, l2: bestTrial.l2, passes: bestTrial.passes },
    bestTrial,
    trials,
    rowUpdates,
    costInFits: rowUpdates / train.rows,
    rungs: rungRows.length,
    elapsedMs: Date.now() - started,
  };
}

/** The search, then the refit of the winner on the whole batch (validation rows included). */
export async function searchAndFit(
  train: FeaturizedBatch,
  base: TrainOptionsInput,
  options: SearchOptionsInput = {},
  hooks: SearchHooks = {},
): Promise<{ search: SearchResult; result: TrainResult; options: TrainOptions }> {
  const search = await searchHyperparameters(train, base, options, hooks);
  const chosen = parseTrainOptions({ ...base, ...search.best });
  return { search, result: trainOnBatch(train, chosen), options: chosen };
}
