import { createHash } from 'node:crypto';
import { errorMessage } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { ModelError, ModelErrorCode } from './errors.js';
import { type FeatureSpec, FeatureSpecSchema } from './feature-spec.js';
import { type Vocabulary, validateVocabulary } from './vocabulary.js';

/**
 * Newest version of the artifact file format. Version 2 adds the vocabulary (kept values per field,
 * for the rare token); the writer uses it only for a model with a vocabulary and writes version 1
 * otherwise, so older builds keep loading models that do not need it.
 */
export const ARTIFACT_FORMAT_VERSION = 2;
/** Every version the parser reads; it rejects any other. */
export const ARTIFACT_FORMAT_VERSIONS_READ: readonly number[] = [1, 2];
/** The one file the trainer uploads into the run's `model/` artifact directory. */
export const ARTIFACT_FILE_NAME = 'fallback-ctr-model.json';
/** Value of the envelope's `format` field: tells a model artifact from any other JSON. */
export const ARTIFACT_FORMAT_NAME = 'fallback-ctr-model';

/** Facts about how the model was trained (no model name/version: the registry holds those). */
export const TrainingMetadataSchema = z.object({
  algorithm: z.string().min(1),
  hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  /** Rows trained on per pass (after negative down-sampling). */
  rows: z.number().int().nonnegative(),
  /** Positive rows among them. */
  positives: z.number().int().nonnegative(),
  passes: z.number().int().positive(),
  seed: z.number().int(),
  /** Served-at of the first and last training row (ISO 8601), if known. */
  dataFrom: z.iso.datetime({ offset: true }).optional(),
  dataTo: z.iso.datetime({ offset: true }).optional(),
  createdAt: z.iso.datetime({ offset: true }),
  /** Training-time metrics, e.g. progressive-validation logloss. */
  metrics: z.record(z.string(), z.number()).optional(),
  /** Anything else worth keeping with the weights. */
  notes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type TrainingMetadata = z.infer<typeof TrainingMetadataSchema>;

/** Input of serializeArtifact. */
export interface ArtifactInput {
  featureSpec: FeatureSpec;
  bias: number;
  /** Dense weights, length 2^hashBits (stored as float32). */
  weights: Float32Array | Float64Array;
  /** Fraction w of negatives kept in training (1 = no down-sampling); the scorer re-calibrates with it. */
  negativeSamplingRate?: number;
  training: TrainingMetadata;
  /** Values trained per field; anything else is scored as the field's rare token (format version 2). */
  vocabulary?: Vocabulary;
}

/** A parsed, verified artifact, ready for createScorer. */
export interface ModelArtifact {
  readonly formatVersion: 1 | 2;
  readonly featureSpec: FeatureSpec;
  readonly bias: number;
  /** Dense float32 weights, length 2^hashBits. */
  readonly weights: Float32Array;
  readonly nonZeroWeights: number;
  readonly negativeSamplingRate: number;
  readonly training: TrainingMetadata;
  /** Present from format version 2 on, when the model was trained with rare tokens. */
  readonly vocabulary?: Vocabulary;
  /** sha256 (hex) of the canonical payload, as recorded in and verified against the file. */
  readonly sha256: string;
}

export interface SerializedArtifact {
  bytes: Buffer;
  /** sha256 (hex) of the canonical payload (also recorded inside the file). */
  sha256: string;
}

// The alphabet is enforced by decodeBase64's exact-length rule (a non-base64 character shortens the output).
const Base64Schema = z.string();

const WeightsSchema = z.discriminatedUnion('encoding', [
  z.object({ encoding: z.literal('dense-f32le'), size: z.number().int().positive(), values: Base64Schema }),
  z.object({
    encoding: z.literal('sparse-f32le'),
    size: z.number().int().positive(),
    count: z.number().int().nonnegative(),
    indices: Base64Schema,
    values: Base64Schema,
  }),
]);

const PayloadV1Schema = z.object({
  featureSpec: FeatureSpecSchema,
  bias: z.number(),
  negativeSamplingRate: z.number().gt(0).lte(1),
  training: TrainingMetadataSchema,
  weights: WeightsSchema,
});

/** Per field: the number of kept values and their uint32 hashes, ascending, as base64 little-endian. */
const VocabularyPayloadSchema = z.object({
  minCount: z.number().int().positive(),
  fields: z.record(z.string(), z.object({ count: z.number().int().nonnegative(), hashes: Base64Schema })),
});

const PayloadV2Schema = PayloadV1Schema.extend({ vocabulary: VocabularyPayloadSchema });
type Payload = z.infer<typeof PayloadV1Schema> & { vocabulary?: z.infer<typeof VocabularyPayloadSchema> };

const EnvelopeHeadSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT_NAME),
  formatVersion: z.number(),
});

/** Exactly these four keys: nothing in the file may sit outside what the checksum covers. */
const EnvelopeSchema = z.strictObject({
  format: z.literal(ARTIFACT_FORMAT_NAME),
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  payload: z.record(z.string(), z.unknown()),
});

/** JSON with object keys sorted (recursively): the byte sequence the checksum is computed over. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A sha256 that also counts the UTF-8 bytes it was fed: the length of the canonical text. */
class CountingHash {
  readonly hash = createHash('sha256');
  bytes = 0;
  update(text: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
    this.bytes += encoding === 'latin1' ? text.length : Buffer.byteLength(text, 'utf8');
    this.hash.update(text, encoding);
  }
}
type Hash = CountingHash;

/**
 * Feeds canonicalJson(value) into `hash` piece by piece, without building the string. The weight blobs
 * (`weights.values`, `weights.indices`) are fed as they are: for base64 text that is exactly what
 * JSON.stringify would write between the quotes, and anything else fails the checksum or the decoding.
 */
function hashCanonical(hash: Hash, value: unknown, blob: boolean): void {
  if (blob && typeof value === 'string') {
    hash.update('"');
    hash.update(value, 'latin1');
    hash.update('"');
  } else if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((v, i) => {
      if (i > 0) hash.update(',');
      hashCanonical(hash, v, false);
    });
    hash.update(']');
  } else if (value !== null && typeof value === 'object') {
    hashObject(hash, value as Record<string, unknown>, (_key, v) => hashCanonical(hash, v, false));
  } else {
    hash.update(JSON.stringify(value) ?? 'null', 'utf8');
  }
}

/** Feeds an object as canonicalJson writes it (keys sorted, undefined values left out), each value by `value`. */
function hashObject(hash: Hash, object: Record<string, unknown>, value: (key: string, v: unknown) => void): void {
  hash.update('{');
  let first = true;
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined) continue;
    if (!first) hash.update(',');
    first = false;
    hash.update(`${JSON.stringify(key)}:`);
    value(key, v);
  }
  hash.update('}');
}

/** sha256 (hex) and UTF-8 length of canonicalJson(payload), streaming the weight blobs. */
function payloadSha256(payload: Record<string, unknown>): { sha256: string; bytes: number } {
  const hash = new CountingHash();
  hashObject(hash, payload, (key, v) => {
    if (key === 'weights' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      hashObject(hash, v as Record<string, unknown>, (wk, wv) =>
        hashCanonical(hash, wv, wk === 'values' || wk === 'indices'),
      );
    } else {
      hashCanonical(hash, v, false);
    }
  });
  return { sha256: hash.hash.digest('hex'), bytes: hash.bytes };
}

/** The file serializeArtifact writes around a canonical payload of `payloadBytes` bytes. */
function envelopeBytes(formatVersion: number, sha256: string, payloadBytes: number): number {
  return Buffer.byteLength(envelopeHead(formatVersion, sha256), 'utf8') + payloadBytes + ENVELOPE_TAIL.length;
}

function envelopeHead(formatVersion: number, sha256: string): string {
  return `{"format":${JSON.stringify(ARTIFACT_FORMAT_NAME)},"formatVersion":${formatVersion},"sha256":"${sha256}","payload":`;
}
const ENVELOPE_TAIL = '}\n';

function invalidInput(message: string): ModelError {
  return new ModelError(ModelErrorCode.ARTIFACT_INPUT_INVALID, `Cannot serialize model artifact: ${message}`);
}

function malformed(message: string, cause?: unknown): ModelError {
  return new ModelError(ModelErrorCode.ARTIFACT_MALFORMED, `Malformed model artifact: ${message}`, { cause });
}

function typedBase64(a: Float32Array | Uint32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/**
 * Writes the artifact file: UTF-8 JSON `{format, formatVersion, sha256, payload}`, the weights as
 * base64 float32 little-endian, dense or sparse (index list) whichever is smaller.
 */
export function serializeArtifact(input: ArtifactInput): SerializedArtifact {
  const spec = FeatureSpecSchema.safeParse(input.featureSpec);
  if (!spec.success) throw invalidInput(`invalid feature spec:\n${z.prettifyError(spec.error)}`);
  const training = TrainingMetadataSchema.safeParse(input.training);
  if (!training.success) throw invalidInput(`invalid training metadata:\n${z.prettifyError(training.error)}`);
  const size = 2 ** spec.data.hashBits;
  const w = input.weights;
  if (w.length !== size) throw invalidInput(`weights has ${w.length} entries, the spec's hash space has ${size}`);
  if (!Number.isFinite(input.bias)) throw invalidInput(`bias is ${input.bias}`);
  const rate = input.negativeSamplingRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw invalidInput(`negativeSamplingRate must be in (0, 1], got ${rate}`);
  if (input.vocabulary !== undefined) {
    try {
      validateVocabulary(input.vocabulary, spec.data);
    } catch (err) {
      throw invalidInput(errorMessage(err));
    }
  }

  const dense = w instanceof Float32Array ? w : Float32Array.from(w);
  let count = 0;
  for (let i = 0; i < size; i++) {
    const v = dense[i] as number;
    if (v !== 0) {
      if (!Number.isFinite(v)) throw invalidInput(`weight ${i} is ${w[i]} (float32 ${v})`);
      count++;
    }
  }
  let weights: Payload['weights'];
  if (count * 2 < size) {
    const idx = new Uint32Array(count);
    const val = new Float32Array(count);
    for (let i = 0, p = 0; i < size; i++) {
      const v = dense[i] as number;
      if (v !== 0) {
        idx[p] = i;
        val[p++] = v;
      }
    }
    weights = { encoding: 'sparse-f32le', size, count, indices: typedBase64(idx), values: typedBase64(val) };
  } else {
    weights = { encoding: 'dense-f32le', size, values: typedBase64(dense) };
  }
  const payload: Payload = {
    featureSpec: spec.data,
    bias: input.bias,
    negativeSamplingRate: rate,
    training: training.data,
    weights,
  };
  if (input.vocabulary !== undefined) payload.vocabulary = vocabularyPayload(input.vocabulary);
  const formatVersion = input.vocabulary === undefined ? 1 : 2;
  const canonical = canonicalJson(payload);
  const sha256 = sha256Hex(canonical);
  const text = `${envelopeHead(formatVersion, sha256)}${canonical}${ENVELOPE_TAIL}`;
  return { bytes: Buffer.from(text, 'utf8'), sha256 };
}

function vocabularyPayload(v: Vocabulary): NonNullable<Payload['vocabulary']> {
  const fields: NonNullable<Payload['vocabulary']>['fields'] = {};
  for (const [name, hashes] of Object.entries(v.fields)) {
    fields[name] = { count: hashes.length, hashes: typedBase64(hashes) };
  }
  return { minCount: v.minCount, fields };
}

function parseVocabulary(p: NonNullable<Payload['vocabulary']>, spec: FeatureSpec): Vocabulary {
  const fields: Record<string, Uint32Array> = {};
  for (const [name, f] of Object.entries(p.fields)) {
    const hashes = new Uint32Array(f.count);
    new Uint8Array(hashes.buffer).set(decodeBase64(f.hashes, `vocabulary.fields.${name}.hashes`, f.count * 4));
    fields[name] = hashes;
  }
  const vocabulary: Vocabulary = { minCount: p.minCount, fields };
  try {
    validateVocabulary(vocabulary, spec);
  } catch (err) {
    throw malformed(errorMessage(err), err);
  }
  return vocabulary;
}

function decodeBase64(b64: string, what: string, expectedBytes: number): Buffer {
  // Buffer.from skips characters outside the alphabet, so exact text length + exact decoded length
  // together mean the text is clean, padded base64.
  const expectedChars = 4 * Math.ceil(expectedBytes / 3);
  const buf = Buffer.from(b64, 'base64');
  if (b64.length !== expectedChars || buf.length !== expectedBytes) {
    throw malformed(
      `${what}: expected ${expectedBytes} bytes as ${expectedChars} base64 characters, got ${b64.length} characters decoding to ${buf.length} bytes`,
    );
  }
  return buf;
}

/**
 * Parses and verifies an artifact file. Throws ModelError with code MODEL_ARTIFACT_MALFORMED (not JSON,
 * not an artifact, schema mismatch, bad weights), MODEL_ARTIFACT_UNSUPPORTED_VERSION or
 * MODEL_ARTIFACT_CHECKSUM_MISMATCH.
 */
export function parseArtifact(bytes: Uint8Array): ModelArtifact {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw malformed('not valid JSON', err);
  }
  const head = EnvelopeHeadSchema.safeParse(doc);
  if (!head.success) {
    throw malformed(
      `not a ${ARTIFACT_FORMAT_NAME} artifact (expected "format": "${ARTIFACT_FORMAT_NAME}" and a numeric "formatVersion")`,
    );
  }
  if (!ARTIFACT_FORMAT_VERSIONS_READ.includes(head.data.formatVersion)) {
    throw new ModelError(
      ModelErrorCode.ARTIFACT_UNSUPPORTED_VERSION,
      `Model artifact format version ${head.data.formatVersion} is not supported by this build (it reads versions ${ARTIFACT_FORMAT_VERSIONS_READ.join(' and ')}); deploy a matching inference build or retrain with this one`,
    );
  }
  const env = EnvelopeSchema.safeParse(doc);
  if (!env.success) throw malformed(z.prettifyError(env.error), env.error);
  const actual = payloadSha256(env.data.payload);
  if (actual.sha256 !== env.data.sha256) {
    throw new ModelError(
      ModelErrorCode.ARTIFACT_CHECKSUM_MISMATCH,
      `Model artifact checksum mismatch: the file records sha256 ${env.data.sha256} but its payload hashes to ${actual.sha256}; the file is corrupted or was edited`,
    );
  }
  // The file must be the canonical text (the final newline optional): with the envelope's keys
  // fixed, any other length means bytes the checksum does not cover (padding, re-encoding).
  const expected = envelopeBytes(env.data.formatVersion, env.data.sha256, actual.bytes);
  const last = bytes[bytes.byteLength - 1];
  const canonicalLength =
    (bytes.byteLength === expected && last === 0x0a) || (bytes.byteLength === expected - 1 && last === 0x7d);
  if (!canonicalLength) {
    throw malformed(
      `the file is ${bytes.byteLength} bytes but its checksummed content written canonically is ${expected}: bytes outside the checksum (padding, whitespace or re-encoded text) are not accepted`,
    );
  }
  const formatVersion = env.data.formatVersion;
  const payload = (formatVersion === 1 ? PayloadV1Schema : PayloadV2Schema).safeParse(env.data.payload);
  if (!payload.success) throw malformed(z.prettifyError(payload.error), payload.error);
  const p: Payload = payload.data;
  const size = 2 ** p.featureSpec.hashBits;
  if (p.weights.size !== size) throw malformed(`weights.size ${p.weights.size} does not match 2^hashBits = ${size}`);
  const weights = new Float32Array(size);
  let nonZero = 0;
  if (p.weights.encoding === 'dense-f32le') {
    new Uint8Array(weights.buffer).set(decodeBase64(p.weights.values, 'weights.values', size * 4));
    for (let i = 0; i < size; i++) {
      const v = weights[i] as number;
      if (v !== 0) {
        if (!Number.isFinite(v)) throw malformed(`weight ${i} is ${v}`);
        nonZero++;
      }
    }
  } else {
    const n = p.weights.count;
    const idx = new Uint32Array(n);
    const val = new Float32Array(n);
    new Uint8Array(idx.buffer).set(decodeBase64(p.weights.indices, 'weights.indices', n * 4));
    new Uint8Array(val.buffer).set(decodeBase64(p.weights.values, 'weights.values', n * 4));
    let prev = -1;
    for (let k = 0; k < n; k++) {
      const i = idx[k] as number;
      const v = val[k] as number;
      if (i <= prev || i >= size) throw malformed(`sparse weight index ${i} at position ${k} is out of order or range`);
      if (!Number.isFinite(v)) throw malformed(`weight ${i} is ${v}`);
      weights[i] = v;
      prev = i;
      if (v !== 0) nonZero++;
    }
  }
  return {
    formatVersion,
    featureSpec: p.featureSpec,
    bias: p.bias,
    weights,
    nonZeroWeights: nonZero,
    negativeSamplingRate: p.negativeSamplingRate,
    training: p.training,
    ...(p.vocabulary !== undefined ? { vocabulary: parseVocabulary(p.vocabulary, p.featureSpec) } : {}),
    sha256: env.data.sha256,
  };
}
