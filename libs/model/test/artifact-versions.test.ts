import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  categoricalFields,
  createFeaturizer,
  createScorer,
  fieldSeed,
  type ModelError,
  murmur3String,
  parseArtifact,
  parseFeatureSpec,
  rareValueHash,
  serializeArtifact,
  sigmoid,
  type Vocabulary,
} from '../src/index.js';

const spec = parseFeatureSpec({
  version: 1,
  hashBits: 12,
  fields: categoricalFields('column', ['ad_id', 'device_type']),
  crosses: [{ fields: ['ad_id', 'device_type'] }],
});

const kept = (field: string, values: string[]) =>
  Uint32Array.from(values.map((v) => murmur3String(v, fieldSeed(spec, field))).sort((a, b) => a - b));

const vocabulary: Vocabulary = { minCount: 3, fields: { ad_id: kept('ad_id', ['ad-1', 'ad-2', 'ad-3']) } };

function weights(): Float32Array {
  const w = new Float32Array(4096);
  for (let i = 0; i < w.length; i += 3) w[i] = ((i % 11) - 5) / 16;
  return w;
}

const training = {
  algorithm: 'ftrl-proximal',
  hyperparameters: { alpha: 0.05 },
  rows: 10,
  positives: 1,
  passes: 1,
  seed: 0,
  createdAt: '2026-11-30T00:00:00.000Z',
};

describe('model artifact versions', () => {
  it('keeps loading a version 1 file as the previous build wrote it (compact canonical JSON; .bin so no formatter touches it), and scores it without a vocabulary', () => {
    const bytes = readFileSync(new URL('./fixtures/artifact-v1.bin', import.meta.url));
    const artifact = parseArtifact(bytes);
    expect(artifact.formatVersion).toBe(1);
    expect(artifact.vocabulary).toBeUndefined();
    const scorer = createScorer(artifact);
    const f = createFeaturizer(artifact.featureSpec);
    const out = new Uint32Array(f.maxIndices);
    const raw = { ad_id: 'never-seen', device_type: 'mobile' };
    f.featurize(raw, out);
    let z = artifact.bias;
    for (const i of out) z += artifact.weights[i] as number;
    expect(scorer.score(raw)).toBeCloseTo(sigmoid(z), 12);
  });

  it('writes version 1 without a vocabulary and version 2 with one, and round-trips the vocabulary', () => {
    const v1 = JSON.parse(
      serializeArtifact({ featureSpec: spec, bias: -2, weights: weights(), training }).bytes.toString(),
    );
    expect(v1.formatVersion).toBe(1);
    expect(v1.payload.vocabulary).toBeUndefined();
    const { bytes } = serializeArtifact({ featureSpec: spec, bias: -2, weights: weights(), training, vocabulary });
    const artifact = parseArtifact(bytes);
    expect(artifact.formatVersion).toBe(2);
    expect(artifact.vocabulary?.minCount).toBe(3);
    expect(Array.from(artifact.vocabulary?.fields.ad_id ?? [])).toEqual(Array.from(vocabulary.fields.ad_id ?? []));
  });

  it('scores an unseen value as the rare token at serving, exactly as training featurised it', () => {
    const scorer = createScorer(
      parseArtifact(serializeArtifact({ featureSpec: spec, bias: -2, weights: weights(), training, vocabulary }).bytes),
    );
    const rareIndex = rareValueHash(spec, 'ad_id') & 4095;
    const out = new Uint32Array(scorer.featurizer.maxIndices);
    scorer.featurizer.featurize({ ad_id: 'ad-999', device_type: 'mobile' }, out);
    expect(out[0]).toBe(rareIndex);
    expect(scorer.score({ ad_id: 'ad-999', device_type: 'mobile' })).toBe(
      scorer.score({ ad_id: 'ad-1000', device_type: 'mobile' }),
    );
    expect(scorer.score({ ad_id: 'ad-1', device_type: 'mobile' })).not.toBe(
      scorer.score({ ad_id: 'ad-999', device_type: 'mobile' }),
    );
  });

  it('covers the vocabulary with the checksum and validates it', () => {
    const doc = JSON.parse(
      serializeArtifact({ featureSpec: spec, bias: -2, weights: weights(), training, vocabulary }).bytes.toString(),
    );
    doc.payload.vocabulary.minCount = 4;
    expect(() => parseArtifact(Buffer.from(JSON.stringify(doc)))).toThrow(/checksum mismatch/);
    const bad = { minCount: 3, fields: { nope: Uint32Array.of(1) } };
    try {
      serializeArtifact({ featureSpec: spec, bias: -2, weights: weights(), training, vocabulary: bad });
      expect.unreachable();
    } catch (err) {
      expect((err as ModelError).code).toBe('MODEL_ARTIFACT_INPUT_INVALID');
      expect((err as ModelError).message).toContain('"nope"');
    }
  });
});
