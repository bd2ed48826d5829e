import { describe, expect, it } from 'vitest';
import {
  categoricalFields,
  createFeaturizer,
  crossSeed,
  defaultFeatureSpec,
  type FeatureSpec,
  fieldSeed,
  type ImpressionColumns,
  impressionAt,
  ModelError,
  murmur3Bytes,
  murmur3String,
  murmur3Uint32,
  parseFeatureSpec,
  RAW_COLUMNS,
  type RawImpression,
} from '../src/index.js';
import { GOLDEN_IMPRESSION } from './support/golden-impression.js';

/** The golden impression plus a context field no spec names (it must not change anything). */
const IMPRESSION: RawImpression = {
  ...GOLDEN_IMPRESSION,
  context: { ...GOLDEN_IMPRESSION.context, unknown_extra: 'x' },
};

// Golden vectors: they pin the featurisation contract. Changing them is a format change (bump the
// feature-spec version and the artifact format version).
const GOLDEN_FULL = [
  680912, 978440, 401590, 309358, 665558, 965077, 467082, 659341, 316315, 947280, 195865, 429875, 983241, 92376, 599551,
  822359, 669543, 960595, 637320, 1005942,
];
const GOLDEN_EMPTY = [
  236767, 526884, 258231, 371129, 238299, 463123, 202460, 600058, 716822, 990710, 109480, 157829, 437736, 63295, 337311,
  648485, 534946, 971028, 832974, 137906,
];

function featurize(spec: FeatureSpec, raw: RawImpression): number[] {
  const f = createFeaturizer(spec);
  const out = new Uint32Array(f.maxIndices);
  expect(f.featurize(raw, out)).toBe(f.maxIndices);
  return Array.from(out);
}

const MASK = 2 ** 20 - 1;

describe('featurizer forceMissing', () => {
  it('featurises a forced field exactly as if the caller had omitted it, crosses included', () => {
    const f = createFeaturizer(defaultFeatureSpec);
    const device = defaultFeatureSpec.fields.findIndex((field) => field.name === 'device_type');
    const mask = new Uint8Array(defaultFeatureSpec.fields.length);
    mask[device] = 1;
    const forced = new Uint32Array(f.maxIndices);
    f.featurize(IMPRESSION, forced, mask);
    const { device_type: _omitted, ...withoutDevice } = IMPRESSION;
    expect(Array.from(forced)).toEqual(featurize(defaultFeatureSpec, withoutDevice));
    expect(Array.from(forced)).not.toEqual(featurize(defaultFeatureSpec, IMPRESSION));
  });
});

/** The impressions stored by column, as the click-log reader hands them over. */
function toColumns(impressions: readonly RawImpression[]): ImpressionColumns {
  return {
    length: impressions.length,
    columns: RAW_COLUMNS.map((c) => impressions.map((i) => i[c] ?? null)),
    contexts: impressions.map((i) => i.context),
  };
}

describe('featurizer on column batches', () => {
  const f = createFeaturizer(defaultFeatureSpec);
  const fromColumns = (batch: ImpressionColumns, r: number): number[] => {
    const hashes = new Int32Array(f.fieldCount);
    const out = new Uint32Array(f.maxIndices);
    f.hashColumnsRow(batch, r, hashes, 0);
    f.indicesFromHashes(hashes, 0, out);
    return Array.from(out);
  };

  it('gives the golden vectors for rows of a column batch, without building the impression', () => {
    const batch = toColumns([IMPRESSION, {}, { ...IMPRESSION, os: '', country: undefined }]);
    expect(fromColumns(batch, 0)).toEqual(GOLDEN_FULL);
    expect(fromColumns(batch, 1)).toEqual(GOLDEN_EMPTY);
    const partial = fromColumns(batch, 2);
    expect(partial).toEqual(featurize(defaultFeatureSpec, { ...IMPRESSION, os: '', country: undefined }));
    expect(partial).not.toEqual(GOLDEN_FULL);
  });

  it('hashes a row exactly as hashFields hashes impressionAt(batch, row)', () => {
    const batch = toColumns([IMPRESSION, { ad_id: 'ad-1', context: { page_views: '3' } }]);
    for (let r = 0; r < batch.length; r++) {
      const a = new Int32Array(f.fieldCount);
      const b = new Int32Array(f.fieldCount);
      f.hashColumnsRow(batch, r, a, 0);
      f.hashFields(impressionAt(batch, r), b, 0);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});

describe('featurizer (default spec)', () => {
  it('matches the golden vector for a fixed impression', () => {
    expect(featurize(defaultFeatureSpec, IMPRESSION)).toEqual(GOLDEN_FULL);
  });

  it('matches the golden vector for an empty impression (every field missing)', () => {
    expect(featurize(defaultFeatureSpec, {})).toEqual(GOLDEN_EMPTY);
  });

  it('follows the documented algorithm (independent recomputation)', () => {
    const spec = defaultFeatureSpec;
    const slotSeed = murmur3String('slot_id', 0);
    const adSeed = fieldSeed(spec, 'ad_id');
    const vSlot = murmur3String('slot-0042', slotSeed);
    const vAd = murmur3String('ad-1337', adSeed);
    const out = featurize(spec, IMPRESSION);
    expect(out[0]).toBe(vSlot & MASK);
    expect(out[2]).toBe(vAd & MASK);
    // Cross ad_id×device_type: MurmurHash3 of the two value hashes as little-endian uint32 words.
    const vDevice = murmur3String('mobile', murmur3String('device_type', 0));
    const words = new Uint8Array(new Uint32Array([vAd, vDevice]).buffer);
    const cs = murmur3String('cross:ad_id|device_type', 0);
    expect(crossSeed(spec, ['ad_id', 'device_type'])).toBe(cs);
    expect(out[12]).toBe(murmur3Bytes(words, 8, cs) & MASK);
    // hour_of_day 14 is categorical: hashed as the text "14".
    expect(out[8]).toBe(murmur3String('14', murmur3String('hour_of_day', 0)) & MASK);
    // user_age_days log1p with scale 2: floor(2·ln(366.5)) = 11.
    expect(out[9]).toBe(murmur3Uint32(11, murmur3String('user_age_days', 0)) & MASK);
    // page_views 7 with boundaries [1,2,3,5,8,...]: 4 boundaries ≤ 7 → bucket 4.
    expect(out[10]).toBe(murmur3Uint32(4, murmur3String('page_views', 0)) & MASK);
    // A missing value is the empty byte string under the field's seed.
    expect(featurize(spec, {})[0]).toBe(murmur3Bytes(new Uint8Array(0), 0, slotSeed) & MASK);
  });

  it("encodes absent, null, empty and non-finite values as the field's missing value", () => {
    const empty = featurize(defaultFeatureSpec, {});
    const variants: RawImpression[] = [
      { context: {} },
      { slot_id: '', context: { hour_of_day: null, user_age_days: Number.NaN, page_views: 'abc', site_category: '' } },
      { context: { user_age_days: null, page_views: '' } },
    ];
    for (const v of variants) expect(featurize(defaultFeatureSpec, v)).toEqual(empty);
    const withBadTypes = { slot_id: { nested: true }, context: { site_category: [1, 2] } } as unknown as RawImpression;
    expect(featurize(defaultFeatureSpec, withBadTypes)).toEqual(empty);
  });

  it('ignores unknown keys and treats numbers, numeric strings and booleans consistently', () => {
    const base = featurize(defaultFeatureSpec, IMPRESSION);
    const extra = { ...IMPRESSION, foo: 'bar', context: { ...IMPRESSION.context, zzz: 1 } } as RawImpression;
    expect(featurize(defaultFeatureSpec, extra)).toEqual(base);
    const strings = {
      ...IMPRESSION,
      context: { ...IMPRESSION.context, hour_of_day: '14', user_age_days: '365.5', page_views: '7' },
    };
    expect(featurize(defaultFeatureSpec, strings)).toEqual(base);
    const spec = parseFeatureSpec({
      version: 1,
      hashBits: 16,
      fields: [{ name: 'flag', source: 'context', kind: 'categorical' }],
    });
    expect(featurize(spec, { context: { flag: true } })).toEqual(featurize(spec, { context: { flag: 'true' } }));
    expect(featurize(spec, { context: { flag: 2.5 } })).toEqual(featurize(spec, { context: { flag: '2.5' } }));
    expect(featurize(spec, { context: { flag: 2.5 } })).not.toEqual(featurize(spec, { context: { flag: 2 } }));
  });

  it('buckets numeric fields by boundaries and by log1p', () => {
    const spec = parseFeatureSpec({
      version: 1,
      hashBits: 24,
      fields: [
        { name: 'b', source: 'context', kind: 'buckets', boundaries: [1, 10] },
        { name: 'l', source: 'context', kind: 'log1p', scale: 1 },
      ],
    });
    const idx = (b: number, l: number) => featurize(spec, { context: { b, l } });
    const bSeed = murmur3String('b', 0);
    const lSeed = murmur3String('l', 0);
    const mask = 2 ** 24 - 1;
    expect(idx(0.5, 0)[0]).toBe(murmur3Uint32(0, bSeed) & mask);
    expect(idx(1, 0)[0]).toBe(murmur3Uint32(1, bSeed) & mask);
    expect(idx(9.99, 0)[0]).toBe(murmur3Uint32(1, bSeed) & mask);
    expect(idx(10, 0)[0]).toBe(murmur3Uint32(2, bSeed) & mask);
    expect(idx(0, -5)[1]).toBe(murmur3Uint32(0, lSeed) & mask);
    expect(idx(0, Math.E - 1)[1]).toBe(murmur3Uint32(1, lSeed) & mask);
    expect(idx(0, 1000)[1]).toBe(murmur3Uint32(6, lSeed) & mask);
  });

  it('reuses the output buffer and writes only maxIndices entries', () => {
    const f = createFeaturizer(defaultFeatureSpec);
    const out = new Uint32Array(f.maxIndices + 2).fill(7);
    f.featurize(IMPRESSION, out);
    expect(out[f.maxIndices]).toBe(7);
    expect(f.slotNames).toHaveLength(f.maxIndices);
    expect(f.size).toBe(2 ** 20);
  });
});

describe('feature spec validation', () => {
  it('rejects unknown cross fields, duplicates, bad columns and bad boundaries with one ModelError', () => {
    const bad = {
      version: 1,
      hashBits: 20,
      fields: [
        ...categoricalFields('column', ['ad_id', 'ad_id', 'not_a_column']),
        { name: 'pv', source: 'context', kind: 'buckets', boundaries: [3, 2] },
      ],
      crosses: [{ fields: ['ad_id', 'nope'] }],
    };
    try {
      parseFeatureSpec(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ModelError);
      const e = err as ModelError;
      expect(e.code).toBe('MODEL_FEATURE_SPEC_INVALID');
      expect(e.message).toContain('duplicate field name');
      expect(e.message).toContain('not_a_column');
      expect(e.message).toContain('strictly increasing');
      expect(e.message).toContain('unknown field "nope"');
    }
  });

  it('rejects unknown spec versions and too large hash spaces', () => {
    expect(() => parseFeatureSpec({ ...defaultFeatureSpec, version: 2 })).toThrow(ModelError);
    expect(() => parseFeatureSpec({ ...defaultFeatureSpec, hashBits: 27 })).toThrow(ModelError);
  });
});

describe('featurizer field by field (a caller reading its own bytes)', () => {
  const f = createFeaturizer(defaultFeatureSpec);
  const values: unknown[] = [
    '',
    'ios',
    'Zürich',
    '日本🙂',
    '12',
    '3.5',
    7,
    -0,
    1.5,
    Number.POSITIVE_INFINITY,
    2 ** 60,
    true,
    false,
    null,
    undefined,
  ];

  it('hashValue(i, v) and hashText(i, a text holding v) are what hashFields writes for field i', () => {
    const expected = new Int32Array(f.fieldCount);
    for (const [i, field] of defaultFeatureSpec.fields.entries()) {
      for (const value of values) {
        const raw = (
          field.source === 'context' ? { context: { [field.name]: value } } : { [field.name]: value }
        ) as RawImpression;
        f.hashFields(raw, expected, 0);
        expect(f.hashValue(i, value), `${field.name} = ${String(value)}`).toBe(expected[i]);
        if (typeof value !== 'string') continue;
        // In place, inside a larger text: what surrounds the value must not count.
        const text = `{"k":"${value}",`;
        expect(f.hashText(i, text, 6, text.length - 2), `${field.name} = "${value}" in a text`).toBe(expected[i]);
      }
    }
  });
});
