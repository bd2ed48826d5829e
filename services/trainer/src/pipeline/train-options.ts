import type { TrainOptionsInput } from '@fallback-ctr/learn';
import type { TrainerConfig } from '../config.js';

/** The settings a candidate is trained with: the configured ones, or those the search chose. */
export type TrainingSettings = Pick<TrainerConfig, 'ftrl' | 'passes'>;

/**
 * The trainer's FTRL settings and passes as libs/learn's training options (hashBits comes from the
 * feature spec; minValueCount is the featurizer's vocabulary, not the learner's).
 */
export function learnTrainOptions(settings: TrainingSettings): Omit<TrainOptionsInput, 'hashBits'> {
  const { minValueCount: _vocabulary, ...ftrl } = settings.ftrl;
  return { ...ftrl, passes: settings.passes };
}
