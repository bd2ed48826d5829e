export interface RocPoint {
  fpr: number;
  tpr: number;
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
