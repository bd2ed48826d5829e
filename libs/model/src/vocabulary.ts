import { ModelError, ModelErrorCode } from './errors.js';
import type { FeatureSpec } from './feature-spec.js';

/**
 * The values a model was trained on, per categorical field: everything else is scored as the field's
 * "rare" token (see the featurizer). Each value is kept as its 32-bit MurmurHash3 under the field's
 * seed — the same hash the featurizer computes — so the scorer tests membership without the strings.
 */
export interface Vocabulary {
  /** Values seen fewer than this many times in the training window were trained as the rare token. */
  readonly minCount: number;
  /** Field name → distinct kept value hashes (uint32), ascending. Fields not listed keep every value. */
  readonly fields: Readonly<Record<string, Uint32Array>>;
}

function invalid(message: string): ModelError {
  return new ModelError(ModelErrorCode.VOCABULARY_INVALID, `Invalid vocabulary: ${message}`);
}

/** Checks that every vocabulary field is a categorical field of the spec and its hashes ascend strictly. */
export function validateVocabulary(vocabulary: Vocabulary, spec: FeatureSpec): void {
  if (!Number.isInteger(vocabulary.minCount) || vocabulary.minCount < 1) {
    throw invalid(`minCount must be a positive integer, got ${vocabulary.minCount}`);
  }
  for (const [name, hashes] of Object.entries(vocabulary.fields)) {
    const field = spec.fields.find((f) => f.name === name);
    if (field === undefined) throw invalid(`field "${name}" is not in the feature spec`);
    if (field.kind !== 'categorical')
      throw invalid(`field "${name}" is ${field.kind}; only categorical fields have one`);
    for (let k = 1; k < hashes.length; k++) {
      if ((hashes[k] as number) <= (hashes[k - 1] as number)) {
        throw invalid(`the hashes of field "${name}" must ascend strictly (position ${k})`);
      }
    }
  }
}

/**
 * An open-addressing set of int32 value hashes (linear probing, load ≤ ½), built once per featurizer:
 * a membership test is one or two probes. The hashes are MurmurHash3 outputs, so their low bits are
 * already uniform.
 */
export class HashSet32 {
  private readonly keys: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;

  constructor(hashes: ArrayLike<number>) {
    let cap = 8;
    while (cap < hashes.length * 2) cap *= 2;
    this.keys = new Int32Array(cap);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let k = 0; k < hashes.length; k++) {
      const h = (hashes[k] as number) | 0;
      let i = h & this.mask;
      while (this.used[i] === 1 && this.keys[i] !== h) i = (i + 1) & this.mask;
      this.keys[i] = h;
      this.used[i] = 1;
    }
  }

  has(h: number): boolean {
    let i = h & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === h) return true;
      i = (i + 1) & this.mask;
    }
    return false;
  }
}
