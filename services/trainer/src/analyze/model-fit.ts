import {
  binaryEntropy,
  clipProbability,
  type FeaturizedBatch,
  MetricsAccumulator,
  type TrainOptionsInput,
  trainOnBatch,
} from '@fallback-ctr/learn';
import { sigmoid } from '@fallback-ctr/model';

/** FTRL settings shared by every model of an analysis (the trainer's, so the deltas mean what they say). */
export type AnalysisTrainOptions = Omit<TrainOptionsInput, 'hashBits'>;

export interface ModelFit {
  /** Per holdout row logloss (natural log), for paired comparisons. */
  losses: Float64Array;
  predictions: Float64Array;
  logloss: number;
  /** Normalised entropy on the holdout: logloss / H(holdout CTR). */
  ne: number;
  /** Predictions of the model on a batch with the columns it was trained on. */
  predict(batch: FeaturizedBatch): Float64Array;
  /** A copy of the trained weights (2^hashBits; empty for the constant model). */
  weights(): Float64Array;
}

/** Holdout CTR and its entropy: the NE denominator, the same for every model of an analysis. */
export function holdoutEntropy(holdout: FeaturizedBatch): { baseRate: number; entropy: number } {
  let clicks = 0;
  for (let r = 0; r < holdout.rows; r++) clicks += holdout.labels[r] as number;
  const baseRate = holdout.rows > 0 ? clicks / holdout.rows : 0;
  return { baseRate, entropy: binaryEntropy(baseRate) };
}

/**
 * Trains FTRL on `train` (already restricted to the model's columns) and scores `holdout` (same
 * columns). Predictions are re-calibrated for negative down-sampling exactly as the scorer does.
 */
export function fitAndEvaluate(
  train: FeaturizedBatch,
  holdout: FeaturizedBatch,
  hashBits: number,
  options: AnalysisTrainOptions,
  entropy: number,
): ModelFit {
  const result = trainOnBatch(train, { ...options, hashBits });
  const ftrl = result.ftrl;
  const offset = Math.log(result.options.negativeSamplingRate);
  const n = holdout.rows;
  const losses = new Float64Array(n);
  const predictions = new Float64Array(n);
  let sum = 0;
  for (let r = 0, off = 0; r < n; r++, off += holdout.width) {
    const p = sigmoid(ftrl.margin(holdout.indices, off, holdout.width) + offset);
    const q = clipProbability(p);
    const loss = holdout.labels[r] === 1 ? -Math.log(q) : -Math.log(1 - q);
    losses[r] = loss;
    predictions[r] = p;
    sum += loss;
  }
  const logloss = n > 0 ? sum / n : Number.NaN;
  const predict = (batch: FeaturizedBatch): Float64Array => {
    const out = new Float64Array(batch.rows);
    for (let r = 0, off = 0; r < batch.rows; r++, off += batch.width) {
      out[r] = sigmoid(ftrl.margin(batch.indices, off, batch.width) + offset);
    }
    return out;
  };
  return {
    losses,
    predictions,
    logloss,
    ne: entropy > 0 ? logloss / entropy : Number.NaN,
    predict,
    // snapshot() rather than the weights accessor, whose shape libs/learn is changing.
    weights: () => ftrl.snapshot().weights,
  };
}

/** The "model" without features: every holdout row predicted at the training CTR. */
export function constantFit(train: FeaturizedBatch, holdout: FeaturizedBatch, entropy: number): ModelFit {
  let clicks = 0;
  for (let r = 0; r < train.rows; r++) clicks += train.labels[r] as number;
  const p = train.rows > 0 ? clicks / train.rows : 0.5;
  const predictions = new Float64Array(holdout.rows).fill(p);
  const losses = new Float64Array(holdout.rows);
  const q = clipProbability(p);
  let sum = 0;
  for (let r = 0; r < holdout.rows; r++) {
    const loss = holdout.labels[r] === 1 ? -Math.log(q) : -Math.log(1 - q);
    losses[r] = loss;
    sum += loss;
  }
  const logloss = holdout.rows > 0 ? sum / holdout.rows : Number.NaN;
  return {
    losses,
    predictions,
    logloss,
    ne: logloss / entropy,
    predict: (batch) => new Float64Array(batch.rows).fill(p),
    weights: () => new Float64Array(0),
  };
}

/** AUC and calibration of a fit (for the report's headline). */
export function fitQuality(fit: ModelFit, holdout: FeaturizedBatch): { auc: number; calibration: number } {
  const acc = new MetricsAccumulator();
  acc.addAll(fit.predictions, holdout.labels);
  const m = acc.result({ reliabilityBins: 1 });
  return { auc: m.auc, calibration: m.calibration };
}

/** NE of given probabilities (e.g. the generator's true CTRs: the best any model could do). */
export function neOfPredictions(predictions: ArrayLike<number>, labels: ArrayLike<number>, entropy: number): number {
  let sum = 0;
  for (let r = 0; r < labels.length; r++) {
    const q = clipProbability(predictions[r] as number);
    sum += labels[r] === 1 ? -Math.log(q) : -Math.log(1 - q);
  }
  return entropy > 0 && labels.length > 0 ? sum / labels.length / entropy : Number.NaN;
}

/**
 * NE(b) − NE(a) on the same holdout rows and its standard error from the paired per-row loss
 * differences (rows are the unit of variation, so the shared noise cancels).
 */
export function pairedNeDelta(a: ModelFit, b: ModelFit, entropy: number): { delta: number; se: number } {
  const n = a.losses.length;
  let mean = 0;
  for (let r = 0; r < n; r++) mean += (b.losses[r] as number) - (a.losses[r] as number);
  mean /= n;
  let ss = 0;
  for (let r = 0; r < n; r++) {
    const d = (b.losses[r] as number) - (a.losses[r] as number) - mean;
    ss += d * d;
  }
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { delta: mean / entropy, se: sd / Math.sqrt(Math.max(n, 1)) / entropy };
}
