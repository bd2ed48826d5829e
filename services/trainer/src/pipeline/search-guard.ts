import { DEFAULT_VALIDATION_FRACTION, type FeaturizedBatch, validationSplit } from '@fallback-ctr/learn';
import type { TrainerConfig } from '../config.js';

/**
 * Why the hyper-parameter search cannot rank its candidates on this training part, or undefined when
 * it can. The search picks the best of up to 48 settings by their logloss on the validation slice
 * (the last 20 % of the training part); on a slice of a few dozen rows or a handful of clicks the
 * differences between settings are noise and the winner is the one that over-fits the slice (400
 * Criteo rows: on a 40-row slice its winner was 6.7-6.8 % worse than scikit-learn's best C on the
 * holdout, the defaults 0.8 % better; bench/README.md). Below TRAIN_SEARCH_MIN_VALIDATION_ROWS /
 * _CLICKS the run keeps the defaults.
 */
export function searchSkipReason(
  train: FeaturizedBatch,
  min: Pick<TrainerConfig['search'], 'minValidationRows' | 'minValidationClicks'>,
): string | undefined {
  const { validation, validationClicks: clicks } = validationSplit(train);
  const count = (n: number): string => n.toLocaleString('en-US');
  const short = [
    ...(validation.rows < min.minValidationRows
      ? [`${count(validation.rows)} rows < TRAIN_SEARCH_MIN_VALIDATION_ROWS = ${count(min.minValidationRows)}`]
      : []),
    ...(clicks < min.minValidationClicks
      ? [`${count(clicks)} clicks < TRAIN_SEARCH_MIN_VALIDATION_CLICKS = ${count(min.minValidationClicks)}`]
      : []),
  ];
  if (short.length === 0) return undefined;
  return `the validation slice (the last ${DEFAULT_VALIDATION_FRACTION * 100} % of the ${count(train.rows)} training rows) is too small to rank the candidates: ${short.join(', ')}`;
}
