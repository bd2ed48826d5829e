import { LearnError, LearnErrorCode } from './errors.js';
import { binaryEntropy, clipProbability } from './metrics.js';

/** A holdout metric and its standard error (NaN when it cannot be estimated, e.g. one class only). */
export interface Estimate {
  value: number;
  se: number;
}

export interface MetricEstimates {
  logloss: Estimate;
  auc: Estimate;
  ne: Estimate;
  calibration: Estimate;
}

/** Candidate minus champion on the same rows; the standard errors account for the pairing. */
export interface PairedEstimates {
  logloss: Estimate;
  auc: Estimate;
}

function badInput(message: string): LearnError {
  return new LearnError(LearnErrorCode.METRICS_INPUT_INVALID, message);
}

function rowLoss(p: number, y: number): number {
  const q = clipProbability(p);
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
}

/** √(Σ(xᵢ − x̄)² / (n(n − 1))): the standard error of a mean, from the sums of x and x². */
function seOfMean(sum: number, sumSq: number, n: number): number {
  if (n < 2) return Number.NaN;
  const variance = Math.max(0, (sumSq - (sum * sum) / n) / (n - 1));
  return Math.sqrt(variance / n);
}

function checkLengths(labels: ArrayLike<number>, ...predictions: ArrayLike<number>[]): void {
  for (const p of predictions) {
    if (p.length !== labels.length) throw badInput(`${p.length} predictions but ${labels.length} labels`);
  }
  if (labels.length === 0) throw badInput('no (prediction, label) pairs to evaluate');
}

/**
 * DeLong's structural components (DeLong, DeLong & Clarke-Pearson 1988): for each positive, the share of
 * negatives it outranks (V10), and for each negative the share of positives that outrank it (V01), ties ½.
 * AUC = mean(V10) = mean(V01), Var(AUC) ≈ Var(V10)/n₊ + Var(V01)/n₋. Positives and negatives stay in row
 * order, so two models' components can be paired. O(n log n).
 */
function delongComponents(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): { v10: Float64Array; v01: Float64Array } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(predictions[i] as number);
  const sortedPos = Float64Array.from(pos).sort();
  const sortedNeg = Float64Array.from(neg).sort();
  const v10 = new Float64Array(pos.length);
  const v01 = new Float64Array(neg.length);
  for (let i = 0; i < pos.length; i++) {
    const x = pos[i] as number;
    const below = lowerBound(sortedNeg, x);
    const ties = upperBound(sortedNeg, x) - below;
    v10[i] = (below + 0.5 * ties) / neg.length;
  }
  for (let j = 0; j < neg.length; j++) {
    const y = neg[j] as number;
    const notAbove = upperBound(sortedPos, y);
    const ties = notAbove - lowerBound(sortedPos, y);
    v01[j] = (pos.length - notAbove + 0.5 * ties) / pos.length;
  }
  return { v10, v01 };
}

/** First index whose value is >= x. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > x. */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** Sample covariance of two equally long arrays (n − 1 in the denominator). */
function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n < 2) return Number.NaN;
  const ma = mean(a);
  const mb = mean(b);
  let s = 0;
  for (let i = 0; i < n; i++) s += ((a[i] as number) - ma) * ((b[i] as number) - mb);
  return s / (n - 1);
}

function aucEstimate(c: { v10: Float64Array; v01: Float64Array }): Estimate {
  if (c.v10.length === 0 || c.v01.length === 0) return { value: Number.NaN, se: Number.NaN };
  const variance = covariance(c.v10, c.v10) / c.v10.length + covariance(c.v01, c.v01) / c.v01.length;
  return { value: mean(c.v10), se: Math.sqrt(variance) };
}

/**
 * Holdout metrics with analytic standard errors (rows treated as independent draws):
 * - logloss: the standard error of a mean of per-row losses;
 * - AUC: DeLong's variance;
 * - NE = logloss / H(ȳ): the delta method with H depending on the same rows (influence of row i:
 *   (lᵢ − LL)/H − LL·H′(ȳ)·(yᵢ − ȳ)/H²), so a constant predictor at the base rate has NE 1 with SE 0;
 * - calibration R = Σp / Σy: the ratio estimator's delta method, SE = sd(pᵢ − R·yᵢ) / (ȳ·√n).
 */
export function metricEstimates(predictions: ArrayLike<number>, labels: ArrayLike<number>): MetricEstimates {
  checkLengths(labels, predictions);
  const n = labels.length;
  let lossSum = 0;
  let lossSq = 0;
  let predSum = 0;
  let clicks = 0;
  for (let i = 0; i < n; i++) {
    const p = predictions[i] as number;
    const y = labels[i] as number;
    if (!(p >= 0 && p <= 1)) throw badInput(`prediction ${i} is ${p}; predictions must be probabilities in [0, 1]`);
    if (y !== 0 && y !== 1) throw badInput(`label ${i} is ${String(y)}; labels must be 0 or 1`);
    const l = rowLoss(p, y);
    lossSum += l;
    lossSq += l * l;
    predSum += p;
    clicks += y;
  }
  const ll = lossSum / n;
  const rate = clicks / n;
  const h = binaryEntropy(rate);
  const dh = h > 0 ? Math.log((1 - rate) / rate) : Number.NaN;
  const ratio = clicks > 0 ? predSum / clicks : Number.NaN;
  let neInfluenceSq = 0;
  let calibrationDevSq = 0;
  for (let i = 0; i < n; i++) {
    const p = predictions[i] as number;
    const y = labels[i] as number;
    const psi = (rowLoss(p, y) - ll) / h - (ll * dh * (y - rate)) / (h * h);
    neInfluenceSq += psi * psi;
    const d = p - ratio * y;
    calibrationDevSq += d * d;
  }
  const perRow = (sumSq: number) => (n > 1 ? Math.sqrt(sumSq / (n * (n - 1))) : Number.NaN);
  return {
    logloss: { value: ll, se: seOfMean(lossSum, lossSq, n) },
    auc: aucEstimate(delongComponents(predictions, labels)),
    ne: h > 0 ? { value: ll / h, se: perRow(neInfluenceSq) } : { value: Number.NaN, se: Number.NaN },
    calibration: clicks > 0 ? { value: ratio, se: perRow(calibrationDevSq) / rate } : { value: ratio, se: Number.NaN },
  };
}

/**
 * Candidate − champion on the same rows: the logloss difference with the standard error of the mean
 * per-row difference, and the AUC difference with DeLong's paired variance
 * Var(A − B) = Var(A) + Var(B) − 2·Cov(A, B). Pairing removes the variance both models share (the
 * holdout's own luck), which is most of it when the models are alike.
 */
export function pairedEstimates(
  candidate: ArrayLike<number>,
  champion: ArrayLike<number>,
  labels: ArrayLike<number>,
): PairedEstimates {
  checkLengths(labels, candidate, champion);
  const n = labels.length;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const d = rowLoss(candidate[i] as number, y) - rowLoss(champion[i] as number, y);
    sum += d;
    sumSq += d * d;
  }
  const a = delongComponents(candidate, labels);
  const b = delongComponents(champion, labels);
  let auc: Estimate = { value: Number.NaN, se: Number.NaN };
  if (a.v10.length > 0 && a.v01.length > 0) {
    const part = (x: Float64Array, y: Float64Array) =>
      (covariance(x, x) + covariance(y, y) - 2 * covariance(x, y)) / x.length;
    const variance = part(a.v10, b.v10) + part(a.v01, b.v01);
    auc = { value: mean(a.v10) - mean(b.v10), se: Math.sqrt(Math.max(0, variance)) };
  }
  return { logloss: { value: sum / n, se: seOfMean(sum, sumSq, n) }, auc };
}
