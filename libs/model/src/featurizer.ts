import { type FeatureSpec, parseFeatureSpec } from './feature-spec.js';
import type { ImpressionColumns } from './impression-columns.js';
import {
  murmur3BytesI32,
  murmur3FinalizeI32,
  murmur3MixBlock,
  murmur3SafeIntegerI32,
  murmur3String,
  murmur3StringI32,
  murmur3TextRangeI32,
  murmur3Uint32I32,
} from './murmur3.js';
import { RAW_COLUMNS, type RawImpression } from './raw-impression.js';
import { HashSet32, type Vocabulary, validateVocabulary } from './vocabulary.js';

/** Codes of a featurize mask: how training forces a field's value (0 = as given). */
export const FieldOverride = {
  AS_GIVEN: 0,
  /** As if the caller had omitted the field. */
  MISSING: 1,
  /** As if the value had not been seen in training (the field's rare token). */
  RARE: 2,
} as const;

export interface FeaturizerOptions {
  /**
   * Values kept per categorical field; a value outside it (never seen, or seen fewer than
   * `minCount` times in training) becomes the field's rare token, crosses included.
   */
  vocabulary?: Vocabulary;
}

/** Turns raw impressions into hashed feature indices. One implementation for training and serving. */
export interface Featurizer {
  readonly spec: FeatureSpec;
  /** Number of indices every call writes: one per field, then one per cross, in spec order. */
  readonly maxIndices: number;
  /** Size of the hash space, 2^hashBits. */
  readonly size: number;
  /** Name of each output slot: field names, then crosses as "a×b". */
  readonly slotNames: readonly string[];
  /** Number of fields (the length of a field-hash row and of a featurize mask). */
  readonly fieldCount: number;
  readonly vocabulary: Vocabulary | undefined;
  /**
   * Writes the impression's indices (each in [0, size)) into `out[0..maxIndices)` and returns the count
   * (always `maxIndices`). Allocation-free for string, integer, boolean and missing values (V8 may box a
   * fractional number read from a context object).
   * `mask[i]` (a FieldOverride) forces field i to its missing value (1) or its rare token (2) whatever
   * its value: training uses it to teach the model what to predict when a caller omits a field or
   * sends a value it never saw.
   */
  featurize(raw: RawImpression, out: Uint32Array, mask?: Uint8Array): number;
  /**
   * Writes each field's 32-bit value hash (MurmurHash3 under the field's seed, before the vocabulary
   * applies) into `out[offset..offset + fieldCount)`.
   */
  hashFields(raw: RawImpression, out: Int32Array, offset: number): void;
  /** Field `field`'s value hash of one value, as hashFields writes it: hashValue(i, value of field i) = hashFields(raw)[i]. */
  hashValue(field: number, value: unknown): number;
  /**
   * hashValue(field, text.slice(start, end)) without the slice for a categorical field: a caller reading
   * a JSON text itself builds no string per value (the /predict body scan).
   */
  hashText(field: number, text: string, start: number, end: number): number;
  /**
   * hashFields of row `row` of a column batch, without building its object:
   * hashColumnsRow(batch, r) = hashFields(impressionAt(batch, r)).
   */
  hashColumnsRow(batch: ImpressionColumns, row: number, out: Int32Array, offset: number): void;
  /**
   * The indices of an impression from its field hashes `hashes[offset..offset + fieldCount)` (as
   * hashFields wrote them): featurize(raw) = indicesFromHashes(hashFields(raw)), vocabulary and mask
   * applied the same way. Training keeps field hashes to featurise a row again with fields forced.
   */
  indicesFromHashes(hashes: Int32Array, offset: number, out: Uint32Array, mask?: Uint8Array): number;
}

const KIND_CATEGORICAL = 0;
const KIND_LOG1P = 1;
const KIND_BUCKETS = 2;

const EMPTY = new Uint8Array(0);

/** Seed of a field: MurmurHash3 of its name under the spec's hash seed. */
export function fieldSeed(spec: FeatureSpec, fieldName: string): number {
  return murmur3String(fieldName, spec.hashSeed);
}

/** Seed of a cross: MurmurHash3 of "cross:" + its field names joined by "|" under the spec's hash seed. */
export function crossSeed(spec: FeatureSpec, fields: readonly string[]): number {
  return murmur3String(`cross:${fields.join('|')}`, spec.hashSeed);
}

/**
 * The rare token of a field: MurmurHash3 of the single byte 0xFF under the field's seed. No string
 * value hashes those bytes (0xFF never occurs in UTF-8), and missing is the empty byte string.
 */
const RARE_BYTES = Uint8Array.of(0xff);

/** A field's rare-token hash (int32 bit pattern as uint32). */
export function rareValueHash(spec: FeatureSpec, fieldName: string): number {
  return murmur3BytesI32(RARE_BYTES, 1, fieldSeed(spec, fieldName)) >>> 0;
}

/**
 * Builds the featurizer for a spec (validated here; throws ModelError on an invalid spec or a
 * vocabulary that does not fit it).
 */
export function createFeaturizer(specInput: FeatureSpec, options: FeaturizerOptions = {}): Featurizer {
  const spec = parseFeatureSpec(specInput);
  const vocabulary = options.vocabulary;
  if (vocabulary !== undefined) validateVocabulary(vocabulary, spec);
  const nf = spec.fields.length;
  const nc = spec.crosses.length;
  const maxIndices = nf + nc;
  const size = 2 ** spec.hashBits;
  const indexMask = size - 1;

  const names = spec.fields.map((f) => f.name);
  // Column fields read from `columnValues` (filled by named loads, which stay monomorphic); context
  // fields by key. columnSlot[i] = position in RAW_COLUMNS, or -1 for a context field.
  const columnSlot = new Int8Array(nf);
  const kinds = new Uint8Array(nf);
  const seeds = new Int32Array(nf);
  const missing = new Int32Array(nf);
  const rare = new Int32Array(nf);
  const kept: (HashSet32 | undefined)[] = [];
  const scales = new Float64Array(nf);
  const boundaries: Float64Array[] = [];
  spec.fields.forEach((f, i) => {
    columnSlot[i] = f.source === 'context' ? -1 : (RAW_COLUMNS as readonly string[]).indexOf(f.name);
    const seed = fieldSeed(spec, f.name);
    seeds[i] = seed;
    missing[i] = murmur3BytesI32(EMPTY, 0, seed);
    rare[i] = murmur3BytesI32(RARE_BYTES, 1, seed);
    const keptHashes = vocabulary?.fields[f.name];
    kept.push(keptHashes === undefined ? undefined : new HashSet32(keptHashes));
    kinds[i] = f.kind === 'categorical' ? KIND_CATEGORICAL : f.kind === 'log1p' ? KIND_LOG1P : KIND_BUCKETS;
    scales[i] = f.kind === 'log1p' ? f.scale : 0;
    boundaries.push(new Float64Array(f.kind === 'buckets' ? f.boundaries : []));
  });
  const crossSeeds = new Int32Array(nc);
  const crossStart = new Int32Array(nc + 1);
  const crossFieldPos: number[] = [];
  spec.crosses.forEach((c, j) => {
    crossSeeds[j] = crossSeed(spec, c.fields);
    crossStart[j] = crossFieldPos.length;
    for (const n of c.fields) crossFieldPos.push(names.indexOf(n));
  });
  crossStart[nc] = crossFieldPos.length;
  const crossPos = Int32Array.from(crossFieldPos);
  const slotNames = [...names, ...spec.crosses.map((c) => c.fields.join('×'))];
  // Per-field 32-bit value hashes of the current impression, reused by the crosses.
  const values = new Int32Array(nf);
  const columnValues: unknown[] = new Array(RAW_COLUMNS.length).fill(undefined);

  function numericValue(v: unknown): number {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.length > 0) return Number(v);
    return Number.NaN;
  }

  function hashField(i: number, v: unknown): number {
    const seed = seeds[i] as number;
    const kind = kinds[i];
    if (kind === KIND_CATEGORICAL) {
      if (typeof v === 'string') return v.length === 0 ? (missing[i] as number) : murmur3StringI32(v, seed);
      if (typeof v === 'number') {
        if (Number.isSafeInteger(v)) return murmur3SafeIntegerI32(v, seed);
        return Number.isFinite(v) ? murmur3StringI32(String(v), seed) : (missing[i] as number);
      }
      if (typeof v === 'boolean') return murmur3StringI32(v ? 'true' : 'false', seed);
      return missing[i] as number;
    }
    const x = numericValue(v);
    if (!Number.isFinite(x)) return missing[i] as number;
    let bucket: number;
    if (kind === KIND_LOG1P) {
      bucket = Math.floor((scales[i] as number) * Math.log1p(Math.max(x, 0)));
    } else {
      const b = boundaries[i] as Float64Array;
      let lo = 0;
      let hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((b[mid] as number) <= x) lo = mid + 1;
        else hi = mid;
      }
      bucket = lo;
    }
    return murmur3Uint32I32(bucket, seed);
  }

  function hashText(i: number, text: string, start: number, end: number): number {
    if (kinds[i] !== KIND_CATEGORICAL) return hashField(i, text.slice(start, end));
    return start === end ? (missing[i] as number) : murmur3TextRangeI32(text, start, end, seeds[i] as number);
  }

  const ownHashes = new Int32Array(nf);

  /** The one place values become field hashes: column values from `columnValues`, the rest from `context`. */
  function hashValues(context: Record<string, unknown> | undefined | null, out: Int32Array, offset: number): void {
    const cv = columnValues;
    for (let i = 0; i < nf; i++) {
      const slot = columnSlot[i] as number;
      const v = slot >= 0 ? cv[slot] : context == null ? undefined : context[names[i] as string];
      out[offset + i] = hashField(i, v);
    }
  }

  function hashFields(raw: RawImpression, out: Int32Array, offset: number): void {
    const cv = columnValues;
    cv[0] = raw.slot_id;
    cv[1] = raw.placement;
    cv[2] = raw.ad_id;
    cv[3] = raw.campaign_id;
    cv[4] = raw.advertiser_id;
    cv[5] = raw.device_type;
    cv[6] = raw.os;
    cv[7] = raw.country;
    hashValues(raw.context as Record<string, unknown> | undefined | null, out, offset);
  }

  function hashColumnsRow(batch: ImpressionColumns, row: number, out: Int32Array, offset: number): void {
    const cv = columnValues;
    const columns = batch.columns;
    for (let c = 0; c < RAW_COLUMNS.length; c++) cv[c] = columns[c]?.[row];
    hashValues(batch.contexts[row] as Record<string, unknown> | undefined | null, out, offset);
  }

  function indicesFromHashes(hashes: Int32Array, offset: number, out: Uint32Array, mask?: Uint8Array): number {
    for (let i = 0; i < nf; i++) {
      let h = hashes[offset + i] as number;
      const force = mask === undefined ? 0 : (mask[i] as number);
      if (force === FieldOverride.MISSING) h = missing[i] as number;
      else if (force === FieldOverride.RARE) h = rare[i] as number;
      else {
        const set = kept[i];
        if (set !== undefined && h !== missing[i] && !set.has(h)) h = rare[i] as number;
      }
      values[i] = h;
      out[i] = h & indexMask;
    }
    for (let j = 0; j < nc; j++) {
      let h = crossSeeds[j] as number;
      const end = crossStart[j + 1] as number;
      const start = crossStart[j] as number;
      for (let p = start; p < end; p++) h = murmur3MixBlock(h, values[crossPos[p] as number] as number);
      out[nf + j] = murmur3FinalizeI32(h, (end - start) * 4) & indexMask;
    }
    return maxIndices;
  }

  function featurize(raw: RawImpression, out: Uint32Array, mask?: Uint8Array): number {
    hashFields(raw, ownHashes, 0);
    return indicesFromHashes(ownHashes, 0, out, mask);
  }

  return {
    spec,
    maxIndices,
    size,
    slotNames,
    fieldCount: nf,
    vocabulary,
    featurize,
    hashFields,
    hashValue: hashField,
    hashText,
    hashColumnsRow,
    indicesFromHashes,
  };
}
