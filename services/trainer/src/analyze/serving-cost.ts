import { createPrng } from '@fallback-ctr/learn';
import {
  createScorer,
  type FeatureSpec,
  type ModelArtifact,
  type RawImpression,
  type Scorer,
} from '@fallback-ctr/model';

export interface CostVariant {
  key: string;
  spec: FeatureSpec;
}

export interface ServingCostOptions {
  /** Timed rounds; each times every variant once (between two base timings), in a fresh random order. */
  rounds: number;
  seed: number;
}

export interface ServingCost {
  /** ns per impression of the base spec's scorer (featurise + score), median of its timings. */
  baseNs: number;
  /** Per variant: (variant − base) ns per impression, median over rounds of the A-B-A difference. */
  deltaNs: Map<string, number>;
}

function artifactFor(spec: FeatureSpec, weights: Float32Array, bias: number): ModelArtifact {
  return {
    formatVersion: 1,
    featureSpec: spec,
    bias,
    weights,
    nonZeroWeights: 0,
    negativeSamplingRate: 1,
    training: {
      algorithm: 'timing-only',
      hyperparameters: {},
      rows: 0,
      positives: 0,
      passes: 1,
      seed: 0,
      createdAt: new Date(0).toISOString(),
    },
    sha256: '0'.repeat(64),
  };
}

/** Keeps the scores observable so the timed calls cannot be optimised away. */
export let lastSink = 0;

function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? (s[m] as number)
      : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Measures what each field and cross costs to serve: the scorer of @fallback-ctr/model (the one
 * inference runs) on the base spec and on each variant (a field or cross removed or added), over the
 * same impressions, with the same weights. The machine may be shared, so each variant is timed between
 * two timings of the base (A-B-A, variants in a fresh random order every round): its cost in a round is
 * its time minus the mean of the two base times around it, and the reported cost is the median over
 * rounds, which cancels slow drifts of contention and ignores preempted rounds.
 */
export function measureServingCost(
  base: FeatureSpec,
  variants: readonly CostVariant[],
  impressions: readonly RawImpression[],
  weights: Float32Array,
  options: ServingCostOptions,
): ServingCost {
  const baseScorer = createScorer(artifactFor(base, weights, -3));
  const scorers = variants.map((v) => createScorer(artifactFor(v.spec, weights, -3)));
  const out = new Float64Array(impressions.length);
  const n = Math.max(1, impressions.length);
  let sink = 0;
  const time = (s: Scorer): number => {
    const t0 = process.hrtime.bigint();
    s.scoreBatch(impressions, out);
    const t1 = process.hrtime.bigint();
    sink += out[impressions.length - 1] as number;
    return Number(t1 - t0) / n;
  };
  for (const s of [baseScorer, ...scorers, baseScorer]) {
    time(s);
    time(s);
  }
  const rand = createPrng(options.seed);
  const diffs: number[][] = scorers.map(() => []);
  const baseTimes: number[] = [];
  const order = scorers.map((_, i) => i);
  for (let round = 0; round < options.rounds; round++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    let before = time(baseScorer);
    baseTimes.push(before);
    for (const i of order) {
      const t = time(scorers[i] as Scorer);
      const after = time(baseScorer);
      baseTimes.push(after);
      (diffs[i] as number[]).push(t - (before + after) / 2);
      before = after;
    }
  }
  lastSink = sink;
  const deltaNs = new Map<string, number>();
  variants.forEach((v, k) => {
    deltaNs.set(v.key, median(diffs[k] as number[]));
  });
  return { baseNs: median(baseTimes), deltaNs };
}
