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
  /** ns per impression of the base spec's scorer (featurise + score), fastest round. */
  baseNs: number;
  /** Per variant: (variant − base) ns per impression, fastest round of each. */
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

/**
 * Measures what each field and cross costs to serve: the scorer of @fallback-ctr/model (the one
 * inference runs) on the base spec and on each variant (a field or cross removed or added), over the
 * same impressions, with the same weights. Rounds interleave the scorers in a random order; each
 * scorer's fastest round is the one least disturbed by other processes (the machine is shared), and the
 * cost of a variant is the difference of the fastest rounds.
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
  const fastest = perRound.map((rounds) => Math.min(...rounds));
  const baseNs = fastest[0] as number;
  const deltaNs = new Map<string, number>();
  variants.forEach((v, k) => {
    deltaNs.set(v.key, (fastest[k + 1] as number) - baseNs);
  });
  return { baseNs, deltaNs };
}
