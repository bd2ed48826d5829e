import { type LoadedModel, loadedModel } from '@fallback-ctr/inference';
import { defaultFeatureSpec, parseArtifact, serializeArtifact } from '@fallback-ctr/model';

/** A loaded model of the default spec (2^20 buckets, every 7th weight set), as a worker holds it after start-up. */
export function benchServingModel(): LoadedModel {
  const size = 2 ** defaultFeatureSpec.hashBits;
  const weights = new Float32Array(size);
  for (let i = 0; i < size; i += 7) weights[i] = ((i % 13) - 6) / 10;
  const { bytes, sha256 } = serializeArtifact({
    featureSpec: defaultFeatureSpec,
    bias: -3.9,
    weights,
    training: {
      algorithm: 'ftrl-proximal',
      hyperparameters: {},
      rows: 1,
      positives: 0,
      passes: 1,
      seed: 1,
      createdAt: new Date().toISOString(),
    },
  });
  return loadedModel(
    {
      name: 'bench',
      version: '1',
      resolvedFrom: 'pinned',
      runId: 'r',
      tags: {},
      loadedAt: new Date().toISOString(),
      sha256,
    },
    parseArtifact(bytes),
  );
}
