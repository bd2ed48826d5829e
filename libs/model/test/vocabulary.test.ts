import { describe, expect, it } from 'vitest';
import {
  createFeaturizer,
  defaultFeatureSpec,
  FieldOverride,
  fieldSeed,
  HashSet32,
  ModelError,
  murmur3Bytes,
  murmur3String,
  type RawImpression,
  rareValueHash,
  type Vocabulary,
} from '../src/index.js';
import { GOLDEN_IMPRESSION } from './support/golden-impression.js';

const IMPRESSION = GOLDEN_IMPRESSION;

const MASK = 2 ** 20 - 1;
const field = (name: string) => defaultFeatureSpec.fields.findIndex((f) => f.name === name);

function hashOf(name: string, value: string): number {
  return murmur3String(value, fieldSeed(defaultFeatureSpec, name));
}

/** Kept ad_id values: ad-1 and ad-2 (not ad-1337); kept device types: mobile. */
const VOCABULARY: Vocabulary = {
  minCount: 5,
  fields: {
    ad_id: Uint32Array.from([hashOf('ad_id', 'ad-1'), hashOf('ad_id', 'ad-2')].sort((a, b) => a - b)),
    device_type: Uint32Array.of(hashOf('device_type', 'mobile')),
  },
};

function indices(raw: RawImpression, vocabulary?: Vocabulary, mask?: Uint8Array): number[] {
  const f = createFeaturizer(defaultFeatureSpec, vocabulary ? { vocabulary } : {});
  const out = new Uint32Array(f.maxIndices);
  f.featurize(raw, out, mask);
  return Array.from(out);
}

// Golden: ad_id and its three crosses of IMPRESSION when ad-1337 is outside the vocabulary.
// They pin the rare token (MurmurHash3 of the byte 0xFF under the field's seed) in the serving contract.
const GOLDEN_RARE_AD = { ad: 416327, adDevice: 119603, adPlacement: 120582, adSite: 825517 };

describe('vocabulary (rare token)', () => {
  it("hashes the rare token as the byte 0xFF under the field's seed, distinct from missing", () => {
    const seed = fieldSeed(defaultFeatureSpec, 'ad_id');
    expect(rareValueHash(defaultFeatureSpec, 'ad_id')).toBe(murmur3Bytes(Uint8Array.of(0xff), 1, seed));
    expect(rareValueHash(defaultFeatureSpec, 'ad_id')).not.toBe(murmur3Bytes(new Uint8Array(0), 0, seed));
  });

  it('maps a value outside the vocabulary to the rare token, crosses included (golden)', () => {
    const plain = indices(IMPRESSION);
    const withVocab = indices(IMPRESSION, VOCABULARY);
    const ad = field('ad_id');
    expect(withVocab[ad]).toBe(rareValueHash(defaultFeatureSpec, 'ad_id') & MASK);
    const crossAt = (a: string, b: string) =>
      defaultFeatureSpec.fields.length +
      defaultFeatureSpec.crosses.findIndex((c) => c.fields[0] === a && c.fields[1] === b);
    expect({
      ad: withVocab[ad],
      adDevice: withVocab[crossAt('ad_id', 'device_type')],
      adPlacement: withVocab[crossAt('ad_id', 'placement')],
      adSite: withVocab[crossAt('ad_id', 'site_category')],
    }).toEqual(GOLDEN_RARE_AD);
    // Everything that does not involve ad_id is unchanged (device "mobile" is kept; fields without a vocabulary keep all).
    const touched = new Set([
      ad,
      crossAt('ad_id', 'device_type'),
      crossAt('ad_id', 'placement'),
      crossAt('ad_id', 'site_category'),
    ]);
    plain.forEach((v, i) => {
      if (!touched.has(i)) expect(withVocab[i]).toBe(v);
    });
  });

  it('keeps values inside the vocabulary and missing values as they are', () => {
    const known = { ...IMPRESSION, ad_id: 'ad-2' };
    expect(indices(known, VOCABULARY)).toEqual(indices(known));
    const { ad_id: _omitted, ...noAd } = IMPRESSION;
    expect(indices(noAd, VOCABULARY)).toEqual(indices(noAd));
  });

  it('is what the RARE mask code trains: a forced field equals an unseen value', () => {
    const mask = new Uint8Array(defaultFeatureSpec.fields.length);
    mask[field('ad_id')] = FieldOverride.RARE;
    expect(indices(IMPRESSION, undefined, mask)).toEqual(indices(IMPRESSION, VOCABULARY));
    expect(indices({ ...IMPRESSION, ad_id: 'ad-2' }, VOCABULARY, mask)).toEqual(indices(IMPRESSION, VOCABULARY));
  });

  it('featurize(raw) equals indicesFromHashes(hashFields(raw)), with and without a mask', () => {
    const f = createFeaturizer(defaultFeatureSpec, { vocabulary: VOCABULARY });
    const hashes = new Int32Array(3 + f.fieldCount);
    f.hashFields(IMPRESSION, hashes, 3);
    expect(hashes[3 + field('ad_id')]! >>> 0).toBe(hashOf('ad_id', 'ad-1337'));
    const mask = new Uint8Array(f.fieldCount);
    mask[field('country')] = FieldOverride.MISSING;
    for (const m of [undefined, mask]) {
      const a = new Uint32Array(f.maxIndices);
      const b = new Uint32Array(f.maxIndices);
      f.featurize(IMPRESSION, a, m);
      f.indicesFromHashes(hashes, 3, b, m);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it('rejects a vocabulary for an unknown or numeric field, or with unsorted hashes', () => {
    const bad: Vocabulary[] = [
      { minCount: 2, fields: { nope: Uint32Array.of(1) } },
      { minCount: 2, fields: { page_views: Uint32Array.of(1) } },
      { minCount: 2, fields: { ad_id: Uint32Array.of(5, 3) } },
      { minCount: 0, fields: {} },
    ];
    for (const vocabulary of bad) {
      expect(() => createFeaturizer(defaultFeatureSpec, { vocabulary })).toThrow(ModelError);
    }
  });
});

describe('HashSet32', () => {
  it('answers membership exactly, negative and zero hashes included', () => {
    const members = [0, 1, -1, 8, 16, 2 ** 31 - 1, -(2 ** 31), 123456789];
    const set = new HashSet32(members);
    for (const m of members) expect(set.has(m)).toBe(true);
    for (const m of [2, 3, -2, 24, 987654321]) expect(set.has(m)).toBe(false);
    expect(new HashSet32([]).has(0)).toBe(false);
  });
});
