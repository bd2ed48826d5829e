import type { SplitPart } from '@fallback-ctr/clicklog';
import {
  featurizeBatches,
  LearnError,
  refeaturizeBatch,
  type SearchResult,
  SearchSpaceSchema,
  type SearchTrial,
  searchHyperparameters,
  ValueCounter,
} from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';

export interface ChosenHyperparameters {
  ftrl: TrainerConfig['ftrl'];
  passes: number;
  /** The search that chose them; null when it did not run (off, every axis pinned, or too few clicks). */
  search: SearchResult | null;
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
  /** Awaited after each candidate (the trainer records it as a nested MLflow run). */
  onTrial?: (trial: SearchTrial) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Stage 2a — choose the hyper-parameters: successive halving over a log grid of FTRL α, λ1, λ2 (and
 * the passes) by logloss on a validation slice, the end of the training part (strictly before the
 * holdout), on rows featurised once into memory (libs/learn's searchHyperparameters). An axis whose
 * FTRL_* / TRAIN_PASSES variable is set stays pinned to it. The refit of the winner on the whole
 * training part is the train stage's, with the values returned here.
 */
export async function chooseHyperparameters(
  train: Pick<SplitPart, 'read'>,
  o: ChooseOptions,
): Promise<ChosenHyperparameters> {
  const { config } = o;
  const { pinned } = config.search;
  const fixed = { ftrl: config.ftrl, passes: config.passes, search: null };
  if (searchedAxes(config).length === 0) return fixed;

  const featurizer = createFeaturizer(o.featureSpec);
  // With negative down-sampling the rows are those the database kept: candidates are compared on them.
  let batch = await featurizeBatches(train.read({ signal: o.signal }).batches(), featurizer);
  if (o.signal?.aborted) throw o.signal.reason;
  // Candidates are trained as the model will be: rare values as their field's rare token (the same
  // vocabulary the train stage counts over the same rows), rare tokens trained at TRAIN_RARE_RATE.
  const { minValueCount, rareRate, missingRate, beta } = config.ftrl;
  if (minValueCount > 0) {
    const counter = new ValueCounter(featurizer);
    counter.addBatch(batch);
    batch = refeaturizeBatch(batch, createFeaturizer(o.featureSpec, { vocabulary: counter.vocabulary(minValueCount) }));
  }
  const grid = SearchSpaceSchema.parse({});
  const space = {
    alpha: pinned.alpha === undefined ? grid.alpha : [pinned.alpha],
    l1: pinned.l1 === undefined ? grid.l1 : [pinned.l1],
    l2: pinned.l2 === undefined ? grid.l2 : [pinned.l2],
    maxPasses: pinned.passes ?? grid.maxPasses,
  };
  let search: SearchResult;
  try {
    search = await searchHyperparameters(
      batch,
      { hashBits: o.featureSpec.hashBits, beta, missingRate, rareRate },
      { space },
      o.onTrial ? { onTrial: o.onTrial } : {},
    );
  } catch (error) {
    // Too few clicks on one side of the validation split: nothing to choose on, keep the defaults.
    if (!(error instanceof LearnError)) throw error;
    o.logger.warn({ err: error }, 'hyper-parameter search skipped: training with the defaults');
    return fixed;
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
  return chosen;
}
