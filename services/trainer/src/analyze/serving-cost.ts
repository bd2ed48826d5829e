import { createPrng } from '@fallback-ctr/learn';
import { createScorer, type FeatureSpec, type ModelArtifact, type RawImpression } from '@fallback-ctr/model';

export interface CostVariant {
  key: string;
  spec: FeatureSpec;
}

export interface ServingCostOptions {
  /** Timed rounds; each times every scorer once, in a fresh random order. */
  rounds: number;
  seed: number;
}

export interface ServingCost {
  /** Median ns per impression of the base spec's scorer (featurise + score). */
  baseNs: number;
  /** Per variant: median over rounds of (variant − base) ns per impression, measured in the same round. */
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

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Measures what each field and cross costs to serve: the scorer of @fallback-ctr/model (the one
 * inference runs) on the base spec and on each variant (a field or cross removed or added), over the
 * same impressions, with the same weights. Rounds interleave the scorers in a random order so CPU
 * contention hits all alike; the cost of a variant is the median of its per-round difference to the base.
 */
export function measureServingCost(
  base: FeatureSpec,
  variants: readonly CostVariant[],
  impressions: readonly RawImpression[],
  weights: Float32Array,
  options: ServingCostOptions,
): ServingCost {
  const scorers = [base, ...variants.map((v) => v.spec)].map((spec) => createScorer(artifactFor(spec, weights, -3)));
  const out = new Float64Array(impressions.length);
  let sink = 0;
  for (const s of scorers) {
    s.scoreBatch(impressions, out);
    s.scoreBatch(impressions, out);
    sink += out[0] as number;
  }
  const rand = createPrng(options.seed);
  const perRound: number[][] = scorers.map(() => []);
  const order = scorers.map((_, i) => i);
  const n = Math.max(1, impressions.length);
  for (let round = 0; round < options.rounds; round++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const i of order) {
      const t0 = process.hrtime.bigint();
      (scorers[i] as (typeof scorers)[number]).scoreBatch(impressions, out);
      const t1 = process.hrtime.bigint();
      sink += out[impressions.length - 1] as number;
      (perRound[i] as number[]).push(Number(t1 - t0) / n);
    }
  }
  lastSink = sink;
  const baseRounds = perRound[0] as number[];
  const deltaNs = new Map<string, number>();
  variants.forEach((v, k) => {
    const rounds = perRound[k + 1] as number[];
    deltaNs.set(v.key, median(rounds.map((t, r) => t - (baseRounds[r] as number))));
  });
  return { baseNs: median(baseRounds), deltaNs };
}
