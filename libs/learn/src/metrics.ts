import { LearnError, LearnErrorCode } from './errors.js';

/** Probabilities are clipped to [ε, 1 − ε] for logloss, ε = float64 machine epsilon (as scikit-learn does). */
export const LOGLOSS_EPSILON = 2.220446049250313e-16;

export interface ReliabilityBin {
  /** Lowest and highest prediction in the bin. */
  minPrediction: number;
  maxPrediction: number;
  count: number;
  meanPrediction: number;
  /** Observed click rate in the bin. */
  observedRate: number;
}

export interface EvaluationMetrics {
  count: number;
  positives: number;
  /** Observed CTR p̄ = positives / count. */
  baseRate: number;
  /** Mean logloss (natural log). */
  logloss: number;
  /** Exact ROC AUC, ties counted as ½; NaN when only one class is present. */
  auc: number;
  /** Normalised entropy: logloss / H(p̄); NaN when p̄ is 0 or 1. */
  normalizedEntropy: number;
  /** Σ predictions / Σ clicks (expected ÷ observed); Infinity when there are no clicks. */
  calibration: number;
  meanPrediction: number;
  /** Equal-count bins of the sorted predictions. */
  reliability: ReliabilityBin[];
}

/** Clips a probability to [ε, 1 − ε] before taking its log. */
export function clipProbability(p: number): number {
  return Math.min(Math.max(p, LOGLOSS_EPSILON), 1 - LOGLOSS_EPSILON);
}

/** Binary entropy H(p) in nats. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

function badInput(message: string): LearnError {
  return new LearnError(LearnErrorCode.METRICS_INPUT_INVALID, message);
}

/**
 * Streams (prediction, label) pairs: logloss, counts and calibration are summed on the fly; predictions
 * are kept (8 bytes each, split by label) for the exact AUC and the reliability table.
 */
export class MetricsAccumulator {
  private pos = new Float64Array(1024);
  private neg = new Float64Array(1024);
  private np = 0;
  private nn = 0;
  private lossSum = 0;
  private predSum = 0;

  get count(): number {
    return this.np + this.nn;
  }

  add(prediction: number, label: number): void {
    if (!(prediction >= 0 && prediction <= 1)) {
      throw badInput(`prediction ${this.count} is ${prediction}; predictions must be probabilities in [0, 1]`);
    }
    const q = clipProbability(prediction);
    if (label === 1) {
      if (this.np === this.pos.length) this.pos = grow(this.pos);
      this.pos[this.np++] = prediction;
      this.lossSum -= Math.log(q);
    } else if (label === 0) {
      if (this.nn === this.neg.length) this.neg = grow(this.neg);
      this.neg[this.nn++] = prediction;
      this.lossSum -= Math.log(1 - q);
    } else {
      throw badInput(`label ${this.count} is ${String(label)}; labels must be 0 or 1`);
    }
    this.predSum += prediction;
  }

  /** Adds many pairs at once. */
  addAll(predictions: ArrayLike<number>, labels: ArrayLike<number>): void {
    if (predictions.length !== labels.length) {
      throw badInput(`${predictions.length} predictions but ${labels.length} labels`);
    }
    for (let i = 0; i < predictions.length; i++) this.add(predictions[i] as number, labels[i] as number);
  }

  /** Computes the metrics over everything added so far. */
  result(options: { reliabilityBins?: number } = {}): EvaluationMetrics {
    const bins = options.reliabilityBins ?? 10;
    const np = this.np;
    const nn = this.nn;
    const n = np + nn;
    if (n === 0) throw badInput('no (prediction, label) pairs to evaluate');
    const pos = this.pos.slice(0, np).sort();
    const neg = this.neg.slice(0, nn).sort();
    const baseRate = np / n;
    const logloss = this.lossSum / n;
    const h = binaryEntropy(baseRate);
    return {
      count: n,
      positives: np,
      baseRate,
      logloss,
      auc: aucFromSorted(pos, neg),
      normalizedEntropy: h > 0 ? logloss / h : Number.NaN,
      calibration: this.predSum / np,
      meanPrediction: this.predSum / n,
      reliability: reliabilityFromSorted(pos, neg, bins),
    };
  }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Exact ROC AUC from the sorted positive and negative predictions: the probability that a random
 * positive outranks a random negative, ties counted ½ (the Mann–Whitney U statistic). O(n) after sorting.
 */
function aucFromSorted(pos: Float64Array, neg: Float64Array): number {
  const np = pos.length;
  const nn = neg.length;
  if (np === 0 || nn === 0) return Number.NaN;
  let below = 0; // negatives strictly below the current positive value
  let u = 0;
  let i = 0;
  while (i < np) {
    const v = pos[i] as number;
    let iEnd = i;
    while (iEnd < np && pos[iEnd] === v) iEnd++;
    while (below < nn && (neg[below] as number) < v) below++;
    let equal = below;
    while (equal < nn && neg[equal] === v) equal++;
    u += (iEnd - i) * (below + 0.5 * (equal - below));
    i = iEnd;
  }
  return u / (np * nn);
}

function reliabilityFromSorted(pos: Float64Array, neg: Float64Array, bins: number): ReliabilityBin[] {
  const n = pos.length + neg.length;
  const k = Math.max(1, Math.min(bins, n));
  const out: ReliabilityBin[] = [];
  let i = 0;
  let j = 0;
  for (let b = 0; b < k; b++) {
    const end = Math.round(((b + 1) * n) / k);
    let count = 0;
    let sum = 0;
    let clicks = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    while (i + j < end) {
      let v: number;
      if (j >= neg.length || (i < pos.length && (pos[i] as number) <= (neg[j] as number))) {
        v = pos[i++] as number;
        clicks++;
      } else {
        v = neg[j++] as number;
      }
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (count > 0) {
      out.push({
        minPrediction: min,
        maxPrediction: max,
        count,
        meanPrediction: sum / count,
        observedRate: clicks / count,
      });
    }
  }
  return out;
}

/** All metrics over arrays of predictions and 0/1 labels. */
export function computeMetrics(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { reliabilityBins?: number } = {},
): EvaluationMetrics {
  const acc = new MetricsAccumulator();
  acc.addAll(predictions, labels);
  return acc.result(options);
}

/** Exact ROC AUC (ties ½), O(n log n). NaN when only one class is present. */
export function rocAuc(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  return computeMetrics(predictions, labels, { reliabilityBins: 1 }).auc;
}

/** Mean logloss with probabilities clipped to [ε, 1 − ε]. */
export function logloss(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length)
    throw badInput(`${predictions.length} predictions but ${labels.length} labels`);
  if (predictions.length === 0) throw badInput('no (prediction, label) pairs to evaluate');
  let s = 0;
  for (let i = 0; i < predictions.length; i++) {
    const p = predictions[i] as number;
    if (!(p >= 0 && p <= 1)) throw badInput(`prediction ${i} is ${p}; predictions must be probabilities in [0, 1]`);
    const q = clipProbability(p);
    const y = labels[i];
    if (y === 1) s -= Math.log(q);
    else if (y === 0) s -= Math.log(1 - q);
    else throw badInput(`label ${i} is ${String(y)}; labels must be 0 or 1`);
  }
  return s / predictions.length;
}
