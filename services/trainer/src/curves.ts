/** One bin of a reliability diagram: mean prediction against the observed click rate. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

export interface RocPoint {
  fpr: number;
  tpr: number;
}

/**
 * Reliability bins over [0, maxP] with equal width, where maxP covers the predictions (CTRs are
 * small, so bins over [0, 1] would put everything in the first one). Empty bins are left out.
 */
export function reliabilityBins(scores: ArrayLike<number>, labels: ArrayLike<number>, binCount = 15): ReliabilityBin[] {
  let maxP = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > maxP) maxP = scores[i]!;
  const top = maxP > 0 ? Math.min(1, maxP * 1.0001) : 1;
  const width = top / binCount;
  const sums = new Float64Array(binCount);
  const clicks = new Float64Array(binCount);
  const counts = new Float64Array(binCount);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(binCount - 1, Math.floor(scores[i]! / width));
    sums[b]! += scores[i]!;
    clicks[b]! += labels[i]!;
    counts[b]!++;
  }
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < binCount; b++) {
    const n = counts[b]!;
    if (n === 0) continue;
    bins.push({
      lower: b * width,
      upper: (b + 1) * width,
      count: n,
      meanPredicted: sums[b]! / n,
      observedRate: clicks[b]! / n,
    });
  }
  return bins;
}

/** ROC curve points (ties grouped), thinned to at most `maxPoints` for drawing. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, maxPoints = 400): RocPoint[] {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i]!;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0)
    return [
      { fpr: 0, tpr: 0 },
      { fpr: 1, tpr: 1 },
    ];
  const points: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (labels[i]) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) points.push({ fpr: fp / negatives, tpr: tp / positives });
  }
  if (points.length <= maxPoints) return points;
  const step = (points.length - 1) / (maxPoints - 1);
  const thinned: RocPoint[] = [];
  for (let j = 0; j < maxPoints; j++) thinned.push(points[Math.round(j * step)]!);
  return thinned;
}
