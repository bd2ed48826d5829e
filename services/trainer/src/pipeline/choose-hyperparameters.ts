import type { SplitPart } from '@fallback-ctr/clicklog';
import {
  LearnError,
  type SearchResult,
  SearchSpaceSchema,
  type SearchTrial,
  searchHyperparameters,
  sliceRows,
} from '@fallback-ctr/learn';
import type { FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';
import { BackgroundLog } from './background-log.js';
import { searchSkipReason } from './search-guard.js';
import { readTrainingRows, type TrainingRowsInMemory } from './training-rows.js';

export interface ChosenHyperparameters {
  ftrl: TrainerConfig['ftrl'];
  passes: number;
  /** The search that chose them; null when it did not run (off, every axis pinned, or too few clicks). */
  search: SearchResult | null;
  /** Why the search did not run although it was on (a validation slice too small to rank candidates). */
  skipped?: string;
}

const AXES = ['alpha', 'l1', 'l2', 'passes'] as const;

/** The axes the search chooses: none when it is off, else those whose variable is not set. */
export function searchedAxes(config: Pick<TrainerConfig, 'search'>): (typeof AXES)[number][] {
  return config.search.enabled ? AXES.filter((axis) => !(axis in config.search.pinned)) : [];
}

export interface ChooseOptions {
  featureSpec: FeatureSpec;
  config: Pick<TrainerConfig, 'ftrl' | 'passes' | 'search'>;
  logger: Logger;
  /**
   * Called with each candidate (the trainer records it as a nested MLflow run). Up to two run while the
   * search goes on; all have finished, and the first failure is thrown, before this stage returns.
   */
  onTrial?: (trial: SearchTrial) => Promise<void>;
  signal?: AbortSignal;
  /** The training part's read, already started (readSearchRows, e.g. while the data were checked). */
  rows?: Promise<TrainingRowsInMemory | undefined>;
  /**
   * When given, the search's last rung runs on a worker thread once one candidate is left, and this is
   * called with that candidate (the winner), the most passes, those the last rung will choose, and the
   * rows: the refit can start beside the last rung (trainCandidate `passesChosen`).
   */
  onFinalist?: (finalist: Finalist) => void;
}

export interface Finalist {
  ftrl: TrainerConfig['ftrl'];
  maxPasses: number;
  /** The passes the run will train: TRAIN_PASSES when set, else the last rung's choice. */
  passes: Promise<number>;
  rows: TrainingRowsInMemory;
}

/**
 * The training part read into memory for the search and the refit, or undefined when no search will
 * run (off, or every axis pinned): what chooseHyperparameters reads when it is not given `rows`.
 */
export function readSearchRows(
  train: Pick<SplitPart, 'read' | 'rows'>,
  o: Pick<ChooseOptions, 'featureSpec' | 'config' | 'logger' | 'signal'>,
): Promise<TrainingRowsInMemory> | undefined {
  if (searchedAxes(o.config).length === 0) return undefined;
  // Candidates are trained as the model will be: rare values as their field's rare token (the
  // vocabulary of TRAIN_MIN_VALUE_COUNT), rare tokens drawn per value at TRAIN_RARE_RATE.
  return readTrainingRows(train, {
    featureSpec: o.featureSpec,
    ftrl: o.config.ftrl,
    maxRows: o.config.search.maxRowsInMemory,
    logger: o.logger,
    signal: o.signal,
  });
}

/** The chosen values, and the training part the search read into memory (undefined: no search ran). */
export interface ChooseResult {
  chosen: ChosenHyperparameters;
  /** The train stage refits the winner on these rows (when complete) instead of reading the click log again. */
  rows?: TrainingRowsInMemory;
}

/**
 * Stage 2a — choose the hyper-parameters: successive halving over a log grid of FTRL α, λ1, λ2 (and
 * the passes) by logloss on a validation slice, the end of the training part (strictly before the
 * holdout), on the training part read once into memory (at most TRAIN_MAX_ROWS_IN_MEMORY rows), the
 * search on at most its TRAIN_SEARCH_MAX_ROWS most recent rows (libs/learn's searchHyperparameters).
 * An axis whose FTRL_* / TRAIN_PASSES variable is set stays pinned to it. The refit of the winner on the
 * whole training part is the train stage's, with the values and the rows returned here.
 */
export async function chooseHyperparameters(
  train: Pick<SplitPart, 'read' | 'rows'>,
  o: ChooseOptions,
): Promise<ChooseResult> {
  const { config } = o;
  const { pinned } = config.search;
  const fixed = { ftrl: config.ftrl, passes: config.passes, search: null };
  const rows = await (o.rows ?? readSearchRows(train, o));
  if (rows === undefined || searchedAxes(config).length === 0) return { chosen: fixed };
  const { counts } = rows;
  // A view of the most recent rows: the search costs (and chooses) the same whatever the part's length.
  const searchFrom = Math.max(0, rows.batch.rows - config.search.maxRows);
  const batch = searchFrom > 0 ? sliceRows(rows.batch, searchFrom, rows.batch.rows) : rows.batch;
  const { rareRate, missingRate, beta } = config.ftrl;
  const skipped = searchSkipReason(batch, config.search);
  if (skipped !== undefined) {
    o.logger.warn({ searchSkipped: skipped }, `hyper-parameter search skipped, training with the defaults: ${skipped}`);
    return { chosen: { ...fixed, skipped }, rows };
  }
  const grid = SearchSpaceSchema.parse({});
  const space = {
    alpha: pinned.alpha === undefined ? grid.alpha : [pinned.alpha],
    l1: pinned.l1 === undefined ? grid.l1 : [pinned.l1],
    l2: pinned.l2 === undefined ? grid.l2 : [pinned.l2],
    maxPasses: pinned.passes ?? grid.maxPasses,
  };
  let search: SearchResult;
  const trials = o.onTrial ? new BackgroundLog(o.onTrial) : undefined;
  try {
    search = await searchHyperparameters(
      batch,
      {
        hashBits: o.featureSpec.hashBits,
        beta,
        missingRate,
        rareRate,
        rareTokenDraws: counts?.rareTokenDraws,
        // Each candidate starts at the base rate of the rows it trains on (never the validation slice's).
        initialBias: 'base-rate',
      },
      { space, parallel: o.onFinalist !== undefined },
      {
        onTrial: trials && ((trial) => trials.add(trial)),
        onFinalist: ({ alpha, l1, l2 }, passes) =>
          o.onFinalist?.({
            ftrl: { ...config.ftrl, alpha, l1, l2 },
            maxPasses: space.maxPasses,
            passes: passes.then((p) => pinned.passes ?? p),
            rows,
          }),
      },
    ).finally(() => trials?.settle());
  } catch (error) {
    // Too few clicks on one side of the validation split: nothing to choose on, keep the defaults.
    if (!(error instanceof LearnError)) throw error;
    o.logger.warn({ err: error }, 'hyper-parameter search skipped: training with the defaults');
    return { chosen: { ...fixed, skipped: error.message }, rows };
  }
  const chosen = {
    ftrl: { ...config.ftrl, alpha: search.best.alpha, l1: search.best.l1, l2: search.best.l2 },
    passes: pinned.passes ?? search.best.passes,
    search,
  };
  o.logger.info(
    {
      chosen: { alpha: chosen.ftrl.alpha, l1: chosen.ftrl.l1, l2: chosen.ftrl.l2, passes: chosen.passes },
      trials: search.trials.length,
      rungs: search.rungs,
      validationLogloss: search.bestTrial.validationLogloss,
      costInFits: search.costInFits,
      elapsedMs: search.elapsedMs,
    },
    'hyper-parameters chosen',
  );
  return { chosen, rows };
}
