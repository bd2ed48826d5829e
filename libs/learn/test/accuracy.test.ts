import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeMetrics,
  type EvaluationMetrics,
  type FeaturizedBatch,
  FeaturizedBatchBuilder,
  type TrainOptionsInput,
  toArtifactInput,
  trainOnBatch,
} from '../src/index.js';
import { scoreRows, servedModel } from './support/served.js';
import { sklearnLogisticRegression } from './support/sklearn.js';
import { syntheticRows } from './support/synthetic.js';

// The smaller, unit-level version of bench/learn-vs-sklearn.ts (which runs on libs/clicklog's data):
// in-process synthetic rows, time-ordered split (first rows train, last rows holdout).
const TRAIN_ROWS = 160_000;
const HOLDOUT_ROWS = 50_000;
// The package defaults for α, β, λ1, λ2.
const BASE: TrainOptionsInput = { hashBits: defaultFeatureSpec.hashBits, passes: 2 };

let train: FeaturizedBatch;
let holdout: FeaturizedBatch;
let oracle: EvaluationMetrics;

function evaluate(opts: TrainOptionsInput, options: { skipRecalibration?: boolean } = {}): EvaluationMetrics {
  const result = trainOnBatch(train, opts);
  const input = toArtifactInput(result, { featureSpec: defaultFeatureSpec });
  if (options.skipRecalibration) input.negativeSamplingRate = 1;
  // Score through the serialised artifact: exactly what inference would serve.
  return computeMetrics(scoreRows(servedModel(input).scorer, holdout), holdout.labels);
}

beforeAll(() => {
  const featurizer = createFeaturizer(defaultFeatureSpec);
  const t = new FeaturizedBatchBuilder(featurizer, TRAIN_ROWS);
  const h = new FeaturizedBatchBuilder(featurizer, HOLDOUT_ROWS);
  let i = 0;
  for (const row of syntheticRows({ rows: TRAIN_ROWS + HOLDOUT_ROWS, seed: 3 })) (i++ < TRAIN_ROWS ? t : h).add(row);
  train = t.build();
  holdout = h.build();
  if (!holdout.trueCtr) throw new Error('synthetic rows carry trueCtr');
  oracle = computeMetrics(holdout.trueCtr, holdout.labels);
});

describe('FTRL accuracy on synthetic data', () => {
  it('gets holdout NE within 3% of the oracle (true probabilities)', () => {
    const m = evaluate(BASE);
    expect(oracle.normalizedEntropy).toBeLessThan(0.97); // the data has signal to learn
    expect(m.normalizedEntropy / oracle.normalizedEntropy).toBeLessThan(1.03);
    expect(m.calibration).toBeGreaterThan(0.9);
    expect(m.calibration).toBeLessThan(1.1);
  });

  it('keeps calibration within 0.95-1.05 with negatives down-sampled at w = 0.1 (re-calibrated)', () => {
    const m = evaluate({ ...BASE, negativeSamplingRate: 0.1, seed: 1 });
    expect(m.calibration).toBeGreaterThan(0.95);
    expect(m.calibration).toBeLessThan(1.05);
    // Without re-calibration the same model over-predicts several-fold.
    const raw = evaluate({ ...BASE, negativeSamplingRate: 0.1, seed: 1 }, { skipRecalibration: true });
    expect(raw.calibration).toBeGreaterThan(3);
  });

  it('has holdout logloss within 0.5% of scikit-learn LogisticRegression (best C) on the same hashed features', async () => {
    const m = evaluate(BASE);
    const sk = await sklearnLogisticRegression(train, holdout, 2 ** defaultFeatureSpec.hashBits, [0.03, 0.1]);
    expect(sk.results).toHaveLength(2);
    expect(sk.best.holdout_logloss).toBeGreaterThan(oracle.logloss * 0.99);
    expect(m.logloss).toBeLessThan(sk.best.holdout_logloss * 1.005);
  });
});
