import type { LabeledImpression } from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec, type Featurizer } from '@fallback-ctr/model';
import { MISSING_LABEL, rawFieldValue, valueLabel } from './value-label.js';
import { wilsonInterval } from './wilson-interval.js';

export interface TopValue {
  label: string;
  impressions: number;
  /** Share of the field's impressions. */
  share: number;
  clicks: number;
  ctr: number;
  /** 95% Wilson interval of the CTR. */
  ctrLow: number;
  ctrHigh: number;
}

export interface SlotProfile {
  /** Distinct feature values seen (after bucketing; "missing" counts as one). */
  cardinality: number;
  /** True when more values than maxTrackedValues were seen: cardinality is then a lower bound. */
  cardinalityIsLowerBound: boolean;
  /** Share of the distinct values whose hash bucket also holds another feature value (any field or cross). */
  collisionRate: number;
  /** The same weighted by impressions. */
  trafficCollisionRate: number;
}

export interface FieldProfile extends SlotProfile {
  name: string;
  /** Share of impressions where the field is present (not missing). */
  coverage: number;
  topValues: TopValue[];
}

export interface CrossProfile extends SlotProfile {
  name: string;
  fields: string[];
}

export interface ProfileResult {
  rows: number;
  clicks: number;
  /** Distinct feature values of the whole spec, and the share of the hash space their buckets fill. */
  distinctFeatures: number;
  bucketsUsed: number;
  fields: FieldProfile[];
  crosses: CrossProfile[];
}

export interface ProfileOptions {
  topValues: number;
  /** Per field or cross; beyond it new values are counted but not told apart. */
  maxTrackedValues: number;
}

const AUX_BITS = 26;
const AUX_SCALE = 2 ** AUX_BITS;

interface SlotState {
  ids: Map<number, number>;
  counts: number[];
  clicks: number[];
  bucket: number[];
  labels: string[];
  untracked: number;
  /** Id of the field's "missing" value, once seen. */
  missingId: number;
}

/**
 * Streams rows once and profiles every field and cross of a spec: coverage, cardinality, top values
 * with CTR, and hash collisions at the spec's hashBits. A value's identity is a 52-bit key made of two
 * extra featurisations with independent seeds (so it follows the featurizer's own notion of "same
 * value" without building strings for crosses); its bucket is the real featurizer's index.
 */
export class FieldProfiler {
  private readonly spec: FeatureSpec;
  private readonly options: ProfileOptions;
  private readonly real: Featurizer;
  private readonly auxA: Featurizer;
  private readonly auxB: Featurizer;
  private readonly buf: Uint32Array;
  private readonly bufA: Uint32Array;
  private readonly bufB: Uint32Array;
  private readonly slots: SlotState[];
  private rows = 0;
  private clicks = 0;

  constructor(spec: FeatureSpec, options: ProfileOptions) {
    this.spec = spec;
    this.options = options;
    this.real = createFeaturizer(spec);
    this.auxA = createFeaturizer({ ...spec, hashBits: AUX_BITS, hashSeed: (spec.hashSeed ^ 0x9e3779b9) >>> 0 });
    this.auxB = createFeaturizer({ ...spec, hashBits: AUX_BITS, hashSeed: (spec.hashSeed ^ 0x85ebca6b) >>> 0 });
    const width = this.real.maxIndices;
    this.buf = new Uint32Array(width);
    this.bufA = new Uint32Array(width);
    this.bufB = new Uint32Array(width);
    this.slots = Array.from({ length: width }, () => ({
      ids: new Map<number, number>(),
      counts: [],
      clicks: [],
      bucket: [],
      labels: [],
      untracked: 0,
      missingId: -1,
    }));
  }

  add(row: LabeledImpression): void {
    const raw = row.impression;
    const y = row.label === 1 ? 1 : 0;
    this.rows++;
    this.clicks += y;
    this.real.featurize(raw, this.buf);
    this.auxA.featurize(raw, this.bufA);
    this.auxB.featurize(raw, this.bufB);
    const nf = this.spec.fields.length;
    for (let k = 0; k < this.slots.length; k++) {
      const s = this.slots[k] as SlotState;
      const key = (this.bufA[k] as number) * AUX_SCALE + (this.bufB[k] as number);
      let id = s.ids.get(key);
      if (id === undefined) {
        if (s.counts.length >= this.options.maxTrackedValues) {
          s.untracked++;
          continue;
        }
        id = s.counts.length;
        s.ids.set(key, id);
        s.counts.push(0);
        s.clicks.push(0);
        s.bucket.push(this.buf[k] as number);
        if (k < nf) {
          const field = this.spec.fields[k]!;
          const label = valueLabel(field, rawFieldValue(raw, field));
          if (label === MISSING_LABEL) s.missingId = id;
          s.labels.push(label);
        }
      }
      s.counts[id]! += 1;
      s.clicks[id]! += y;
    }
  }

  result(): ProfileResult {
    const size = 2 ** this.spec.hashBits;
    const occupancy = new Uint8Array(size);
    let distinct = 0;
    for (const s of this.slots) {
      for (const b of s.bucket) if ((occupancy[b] as number) < 255) occupancy[b]! += 1;
      distinct += s.counts.length;
    }
    let bucketsUsed = 0;
    for (let i = 0; i < size; i++) if ((occupancy[i] as number) > 0) bucketsUsed++;

    const slotProfile = (s: SlotState): SlotProfile => {
      let collidedValues = 0;
      let collidedRows = 0;
      let tracked = 0;
      for (let id = 0; id < s.counts.length; id++) {
        tracked += s.counts[id] as number;
        if ((occupancy[s.bucket[id] as number] as number) > 1) {
          collidedValues++;
          collidedRows += s.counts[id] as number;
        }
      }
      return {
        cardinality: s.counts.length,
        cardinalityIsLowerBound: s.untracked > 0,
        collisionRate: s.counts.length > 0 ? collidedValues / s.counts.length : 0,
        trafficCollisionRate: tracked > 0 ? collidedRows / tracked : 0,
      };
    };

    const nf = this.spec.fields.length;
    const fields: FieldProfile[] = this.spec.fields.map((f, k) => {
      const s = this.slots[k] as SlotState;
      const order = s.counts.map((_, id) => id);
      order.sort((a, b) => (s.counts[b] as number) - (s.counts[a] as number) || a - b);
      const topValues = order.slice(0, this.options.topValues).map((id): TopValue => {
        const n = s.counts[id] as number;
        const c = s.clicks[id] as number;
        const ci = wilsonInterval(c, n);
        return {
          label: s.labels[id] as string,
          impressions: n,
          share: this.rows > 0 ? n / this.rows : 0,
          clicks: c,
          ctr: n > 0 ? c / n : 0,
          ctrLow: ci.low,
          ctrHigh: ci.high,
        };
      });
      return {
        name: f.name,
        coverage: this.rows > 0 ? 1 - (s.missingId >= 0 ? (s.counts[s.missingId] as number) : 0) / this.rows : 0,
        ...slotProfile(s),
        topValues,
      };
    });
    const crosses: CrossProfile[] = this.spec.crosses.map((c, j) => ({
      name: c.fields.join('×'),
      fields: [...c.fields],
      ...slotProfile(this.slots[nf + j] as SlotState),
    }));
    return { rows: this.rows, clicks: this.clicks, distinctFeatures: distinct, bucketsUsed, fields, crosses };
  }
}
