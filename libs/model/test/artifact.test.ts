import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_FILE_NAME,
  ARTIFACT_FORMAT_VERSION,
  type ArtifactInput,
  canonicalJson,
  defaultFeatureSpec,
  ModelError,
  parseArtifact,
  parseFeatureSpec,
  serializeArtifact,
} from '../src/index.js';

const spec = parseFeatureSpec({
  version: 1,
  hashBits: 12,
  fields: [
    { name: 'ad_id', source: 'column', kind: 'categorical' },
    { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 5] },
  ],
  crosses: [{ fields: ['ad_id', 'page_views'] }],
});

function input(weights: Float32Array | Float64Array, extra: Partial<ArtifactInput> = {}): ArtifactInput {
  return {
    featureSpec: spec,
    bias: -3.25,
    weights,
    negativeSamplingRate: 0.5,
    training: {
      algorithm: 'ftrl-proximal',
      hyperparameters: { alpha: 0.05, beta: 1, l1: 1, l2: 1 },
      rows: 1000,
      positives: 31,
      passes: 2,
      seed: 7,
      dataFrom: '2026-11-01T00:00:00.000Z',
      dataTo: '2026-11-07T23:59:59.000Z',
      createdAt: '2026-11-08T01:00:00.000Z',
      metrics: { progressive_logloss_pass_1: 0.12 },
    },
    ...extra,
  };
}

function expectModelError(fn: () => unknown, code: string, text?: string): void {
  try {
    fn();
    expect.unreachable('expected a ModelError');
  } catch (err) {
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe(code);
    if (text) expect((err as ModelError).message).toContain(text);
  }
}

describe('model artifact v1', () => {
  it('names the file and the version', () => {
    expect(ARTIFACT_FILE_NAME).toBe('fallback-ctr-model.json');
    expect(ARTIFACT_FORMAT_VERSION).toBe(2);
  });

  it('round-trips sparse weights (few non-zeros) exactly', () => {
    const w = new Float32Array(4096);
    w[0] = 0.5;
    w[17] = -1.25;
    w[4095] = 3e-7;
    const { bytes, sha256 } = serializeArtifact(input(w));
    const doc = JSON.parse(bytes.toString('utf8'));
    expect(doc.payload.weights.encoding).toBe('sparse-f32le');
    expect(doc.sha256).toBe(sha256);
    const a = parseArtifact(bytes);
    expect(Array.from(a.weights)).toEqual(Array.from(w));
    expect(a.nonZeroWeights).toBe(3);
    expect(a.bias).toBe(-3.25);
    expect(a.negativeSamplingRate).toBe(0.5);
    expect(a.featureSpec).toEqual(spec);
    expect(a.training.positives).toBe(31);
    expect(a.sha256).toBe(sha256);
  });

  it('round-trips dense weights and stores Float64 input as float32', () => {
    const w = new Float64Array(4096);
    for (let i = 0; i < w.length; i++) w[i] = Math.sin(i) / 3;
    const a = parseArtifact(serializeArtifact(input(w)).bytes);
    expect(JSON.parse(serializeArtifact(input(w)).bytes.toString()).payload.weights.encoding).toBe('dense-f32le');
    expect(Array.from(a.weights)).toEqual(Array.from(Float32Array.from(w)));
    expect(a.nonZeroWeights).toBe(4095);
  });

  it('is deterministic and its checksum is the sha256 of the canonical payload', () => {
    const w = new Float32Array(4096);
    w[5] = 1;
    const one = serializeArtifact(input(w));
    const two = serializeArtifact(input(w));
    expect(one.bytes.equals(two.bytes)).toBe(true);
    const doc = JSON.parse(one.bytes.toString('utf8'));
    expect(createHash('sha256').update(canonicalJson(doc.payload)).digest('hex')).toBe(one.sha256);
  });

  it('verifies payloads whose strings need escaping (the checksum is over the canonical JSON)', () => {
    const w = new Float32Array(4096);
    w[9] = 2;
    const note = `"quoted" \\ back\nslash, ünïcödé 😀 ${'x'.repeat(5000)}`;
    const { bytes, sha256 } = serializeArtifact(input(w, { training: { ...input(w).training, notes: { note } } }));
    const a = parseArtifact(bytes);
    expect(a.training.notes?.note).toBe(note);
    expect(a.sha256).toBe(sha256);
  });

  it('rejects an edited payload with a checksum error', () => {
    const w = new Float32Array(4096);
    w[5] = 1;
    const doc = JSON.parse(serializeArtifact(input(w)).bytes.toString('utf8'));
    doc.payload.bias = 0;
    expectModelError(
      () => parseArtifact(Buffer.from(JSON.stringify(doc))),
      'MODEL_ARTIFACT_CHECKSUM_MISMATCH',
      'checksum',
    );
  });

  it('accepts no byte outside what the checksum covers: padding, unknown envelope keys, re-formatting', () => {
    const w = new Float32Array(4096);
    w[5] = 1;
    const { bytes } = serializeArtifact(input(w));
    expect(parseArtifact(bytes).weights[5]).toBe(1);
    // The final newline is optional.
    expect(parseArtifact(bytes.subarray(0, bytes.length - 1)).weights[5]).toBe(1);
    const doc = JSON.parse(bytes.toString('utf8'));
    expectModelError(
      () => parseArtifact(Buffer.from(JSON.stringify({ ...doc, padding: 'x'.repeat(100_000) }))),
      'MODEL_ARTIFACT_MALFORMED',
      'padding',
    );
    expectModelError(
      () => parseArtifact(Buffer.concat([bytes, Buffer.from(' '.repeat(100_000))])),
      'MODEL_ARTIFACT_MALFORMED',
      'outside the checksum',
    );
    expectModelError(
      () => parseArtifact(Buffer.from(JSON.stringify(doc, null, 2))),
      'MODEL_ARTIFACT_MALFORMED',
      'outside the checksum',
    );
    // Same length, one byte moved: a space instead of the final newline.
    const moved = Buffer.concat([Buffer.from(' '), bytes.subarray(0, bytes.length - 1)]);
    expectModelError(() => parseArtifact(moved), 'MODEL_ARTIFACT_MALFORMED', 'outside the checksum');
  });

  it('rejects unknown format versions with a clear error before anything else', () => {
    const doc = { format: 'fallback-ctr-model', formatVersion: 3, sha256: 'x', payload: { anything: true } };
    expectModelError(
      () => parseArtifact(Buffer.from(JSON.stringify(doc))),
      'MODEL_ARTIFACT_UNSUPPORTED_VERSION',
      'version 3',
    );
  });

  it('rejects malformed files', () => {
    expectModelError(() => parseArtifact(Buffer.from('not json')), 'MODEL_ARTIFACT_MALFORMED', 'not valid JSON');
    expectModelError(
      () => parseArtifact(Buffer.from('{"hello":1}')),
      'MODEL_ARTIFACT_MALFORMED',
      'not a fallback-ctr-model',
    );
    const w = new Float32Array(4096);
    w[5] = 1;
    const doc = JSON.parse(serializeArtifact(input(w)).bytes.toString('utf8'));
    // A payload that no longer fits the schema, with a checksum recomputed to match it.
    const reseal = (payload: unknown) => {
      const sha256 = createHash('sha256').update(canonicalJson(payload)).digest('hex');
      return Buffer.from(JSON.stringify({ ...doc, sha256, payload }));
    };
    expectModelError(() => parseArtifact(reseal({ ...doc.payload, bias: 'high' })), 'MODEL_ARTIFACT_MALFORMED', 'bias');
    const truncated = {
      ...doc.payload,
      weights: { ...doc.payload.weights, values: doc.payload.weights.values.slice(0, 4) },
    };
    expectModelError(() => parseArtifact(reseal(truncated)), 'MODEL_ARTIFACT_MALFORMED', 'weights.values');
    const v = doc.payload.weights.values as string;
    const junk = { ...doc.payload, weights: { ...doc.payload.weights, values: `${v.slice(0, 8)}!${v.slice(9)}` } };
    expectModelError(() => parseArtifact(reseal(junk)), 'MODEL_ARTIFACT_MALFORMED', 'base64 characters');
    const wrongSize = { ...doc.payload, weights: { ...doc.payload.weights, size: 8192 } };
    expectModelError(() => parseArtifact(reseal(wrongSize)), 'MODEL_ARTIFACT_MALFORMED', '2^hashBits');
  });

  it('refuses inconsistent input', () => {
    expectModelError(() => serializeArtifact(input(new Float32Array(10))), 'MODEL_ARTIFACT_INPUT_INVALID', '4096');
    const w = new Float32Array(4096);
    w[3] = Number.NaN;
    expectModelError(() => serializeArtifact(input(w)), 'MODEL_ARTIFACT_INPUT_INVALID', 'weight 3');
    expectModelError(
      () => serializeArtifact(input(new Float32Array(4096), { negativeSamplingRate: 0 })),
      'MODEL_ARTIFACT_INPUT_INVALID',
      'negativeSamplingRate',
    );
    expectModelError(
      () =>
        serializeArtifact(input(new Float32Array(2 ** 20), { featureSpec: { ...defaultFeatureSpec, hashBits: 99 } })),
      'MODEL_ARTIFACT_INPUT_INVALID',
      'feature spec',
    );
  });
});
