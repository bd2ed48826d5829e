import {
  type ArtifactInput,
  createScorer,
  defaultFeatureSpec,
  type FeatureSpec,
  parseArtifact,
  type RawImpression,
  serializeArtifact,
} from '@fallback-ctr/model';
import { createModelHolder, type LoadedModel, type ModelHolder } from '../src/index.js';

/** Deterministic pseudo-random numbers (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small spec (2^16 buckets) with the default fields and crosses: fast to serialise and parse. */
export const testFeatureSpec: FeatureSpec = { ...defaultFeatureSpec, hashBits: 16 };

/** A real artifact made with libs/model: sparse random weights, bias chosen for a ~2% base CTR. */
export function makeArtifact(seed = 1, nonZero = 20_000): { bytes: Buffer; sha256: string; input: ArtifactInput } {
  const random = seededRandom(seed);
  const size = 2 ** testFeatureSpec.hashBits;
  const weights = new Float32Array(size);
  for (let k = 0; k < nonZero; k++) weights[Math.floor(random() * size)] = (random() - 0.5) * 2;
  const input: ArtifactInput = {
    featureSpec: testFeatureSpec,
    bias: -3.9 + seed * 0.01,
    weights,
    training: {
      algorithm: 'ftrl-proximal',
      hyperparameters: { alpha: 0.05, beta: 1, l1: 1, l2: 0 },
      rows: 10_000,
      positives: 200,
      passes: 1,
      seed,
      createdAt: '2026-11-26T00:00:00.000Z',
      metrics: { progressiveLogloss: 0.09 },
    },
  };
  return { ...serializeArtifact(input), input };
}

export function makeLoadedModel(seed = 1, version = '7'): LoadedModel {
  const { bytes } = makeArtifact(seed);
  const artifact = parseArtifact(bytes);
  return {
    name: 'test-model',
    version,
    resolvedFrom: 'alias:champion',
    runId: 'run-1',
    tags: { 'gate.outcome': 'PASS', 'holdout.auc': '0.71', 'holdout.logloss': '0.091', other: 'x' },
    loadedAt: new Date('2026-11-26T01:02:03.000Z'),
    artifact,
    scorer: createScorer(artifact),
  };
}

export function loadedHolder(seed = 1): ModelHolder {
  return createModelHolder(makeLoadedModel(seed));
}

export function randomImpression(random: () => number): RawImpression {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  return {
    slot_id: `slot-${Math.floor(random() * 50)}`,
    placement: pick(['header', 'sidebar', 'footer', 'interstitial']),
    ad_id: `ad-${Math.floor(random() * 500)}`,
    campaign_id: `c-${Math.floor(random() * 40)}`,
    advertiser_id: `adv-${Math.floor(random() * 20)}`,
    device_type: pick(['mobile', 'desktop', 'tablet']),
    os: pick(['android', 'ios', 'windows', 'macos', 'linux']),
    country: pick(['DE', 'FR', 'US', 'GB', 'ES']),
    context: {
      hour_of_day: Math.floor(random() * 24),
      user_age_days: Math.floor(-Math.log(1 - random()) * 200),
      page_views: Math.floor(random() * 30),
      site_category: pick(['news', 'sports', 'tech', 'travel']),
    },
  };
}
