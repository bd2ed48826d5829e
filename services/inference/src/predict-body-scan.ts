import { type Featurizer, RAW_COLUMNS } from '@fallback-ctr/model';
import {
  ascii,
  guessedKeyEnd,
  type KeyGuess,
  type KeyTable,
  keyGuess,
  keyTable,
  lookup,
  sameBytes,
} from './json-keys.js';
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  NEWLINE,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
  RETURN,
  SPACE,
  TAB,
} from './json-shape-scan.js';
import type { LoadedModel } from './model-holder.js';
import { PREDICT_LIMITS } from './predict-limits.js';

/**
 * A POST /predict body read by the fused scan: per impression its id and its field hashes under the
 * featurizer of `model` (the model served when the body arrived), as hashFields would write them from
 * JSON.parse's object. The route scores it with that model; nothing else reads it.
 */
export class HashedPredictBody {
  constructor(
    readonly model: LoadedModel,
    readonly count: number,
    readonly ids: readonly (string | undefined)[],
    /** `count` rows of `model`'s fieldCount hashes. */
    readonly hashes: Int32Array,
  ) {}

  /** The CTR of each impression into `out[0..count)`: scorer.score(impression) for the impression JSON.parse makes. */
  score(out: Float64Array): Float64Array {
    const { scorer } = this.model;
    const { featurizer } = scorer;
    let indices = indexBuffers.get(featurizer);
    if (indices === undefined) {
      indices = new Uint32Array(featurizer.maxIndices);
      indexBuffers.set(featurizer, indices);
    }
    const fields = featurizer.fieldCount;
    for (let i = 0; i < this.count; i++) {
      out[i] = scorer.scoreIndices(indices, featurizer.indicesFromHashes(this.hashes, i * fields, indices));
    }
    return out;
  }
}

const indexBuffers = new WeakMap<Featurizer, Uint32Array>();

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;

/** Characters that end the fast reading of a string (the scan reads ASCII only): 1 its closing quote, 2 what only the exact path reads. */
const STRING_STOP = new Uint8Array(0x80);
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 2; // escapes
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 2; // JSON.parse refuses raw control characters

/** Past the character `ch` at p, whitespace before it skipped; -1 when another character comes first. */
function past(b: Uint8Array, p: number, ch: number): number {
  const c = b[p] as number;
  if (c === ch) return p + 1;
  if (c > SPACE) return -1;
  p = skipWhitespace(b, p);
  return b[p] === ch ? p + 1 : -1;
}

function skipWhitespace(b: Uint8Array, p: number): number {
  let c = b[p] as number;
  // JSON.stringify writes none: one comparison in the common case.
  if (c > SPACE) return p;
  while (c === SPACE || c === NEWLINE || c === RETURN || c === TAB) c = b[++p] as number;
  return p;
}

/** At an opening quote: the index of the closing quote, or -1 when the string holds an escape or a control character. */
function stringEnd(b: Uint8Array, p: number): number {
  for (let i = p + 1; i < b.length; i++) {
    const stop = STRING_STOP[b[i] as number] as number;
    if (stop !== 0) return stop === 1 ? i : -1;
  }
  return -1;
}

function digitsEnd(b: Uint8Array, p: number): number {
  let c = b[p] as number;
  while (c >= ZERO && c <= NINE) c = b[++p] as number;
  return p;
}

const IMPRESSIONS = ascii('impressions');
const TRUE = ascii('true');
const FALSE = ascii('false');
const NULL = ascii('null');

const ID = RAW_COLUMNS.length;
const CONTEXT = RAW_COLUMNS.length + 1;
const IMPRESSION_KEY_NAMES = [...RAW_COLUMNS, 'id', 'context'];
const IMPRESSION_KEYS = keyTable(IMPRESSION_KEY_NAMES.map((name, code) => [name, code] as const));
const IMPRESSION_KEY_GUESSES = IMPRESSION_KEY_NAMES.map((name, code) => keyGuess(ascii(name), code));

/** What the scan needs of one featurizer, built once per featurizer. */
interface Plan {
  featurizer: Featurizer;
  fieldCount: number;
  /** Field index of each RAW_COLUMNS column, -1 when the spec does not use it. */
  columnField: Int16Array;
  /** Context keys the spec reads → field index. */
  contextFields: KeyTable;
  /** Each field's hash when the impression lacks it. */
  missing: Int32Array;
  /** A row of hashes per impression of the largest batch. */
  hashes: Int32Array;
  /** Per field: the context it was last set in (a repeated key is left to the exact path). */
  setIn: Uint32Array;
  /** Per member position of a context: the key last met there, its code the field index or -1. */
  contextGuesses: (KeyGuess | undefined)[];
}

/**
 * The fused reading of a POST /predict body: one pass over its text that checks the body is of the
 * common shape — `{"impressions":[…]}` of objects holding only the known columns, `id` and a flat
 * `context` of strings, numbers, booleans and nulls, every string ASCII without escapes, within
 * PREDICT_LIMITS, no key twice — and writes each impression's field hashes straight from the text, so
 * a valid body pays neither JSON.parse, nor the shape scan and the validator, nor a string per value.
 * Anything else (an escape, a non-ASCII character, an unknown key, a nested value, a repeated key, a
 * broken limit, malformed JSON) returns undefined and the body takes the exact path: every 4xx and
 * every score stays what that path makes it (a differential test holds the two equal).
 *
 * Why bit-identical: such a string's value is its text between the quotes, and Featurizer.hashText
 * hashes that range as hashValue hashes the sliced string; numbers, booleans and nulls are handed to
 * Featurizer.hashValue as the values JSON.parse makes of them (plain integers of up to 15 digits
 * accumulated exactly, any other number by Number() of its checked JSON text, which rounds alike).
 *
 * Each step takes the text and a position and returns the position after what it read, -1 when the
 * body is not of the common shape (positions stay in locals: the scan is a tight loop over characters).
 */
export function createPredictBodyScan(
  maxBatchSize: number,
): (text: string, model: LoadedModel) => HashedPredictBody | undefined {
  const { maxStringLength, maxIdLength, maxContextKeys, maxContextKeyLength } = PREDICT_LIMITS;
  const plans = new WeakMap<Featurizer, Plan>();
  let contextGeneration = 0;
  // Results a step hands back besides its position (synchronous: one request at a time).
  let numberValue = 0;
  let impressionId: string | undefined;
  const impressionGuesses: (KeyGuess | undefined)[] = [];

  function planFor(featurizer: Featurizer): Plan {
    let plan = plans.get(featurizer);
    if (plan !== undefined) return plan;
    const fields = featurizer.spec.fields;
    const columnField = new Int16Array(RAW_COLUMNS.length).fill(-1);
    const contextEntries: [string, number][] = [];
    fields.forEach((f, i) => {
      if (f.source === 'context') contextEntries.push([f.name, i]);
      else columnField[(RAW_COLUMNS as readonly string[]).indexOf(f.name)] = i;
    });
    plan = {
      featurizer,
      fieldCount: fields.length,
      columnField,
      contextFields: keyTable(contextEntries),
      missing: Int32Array.from(fields, (_, i) => featurizer.hashValue(i, undefined)),
      hashes: new Int32Array(maxBatchSize * fields.length),
      setIn: new Uint32Array(fields.length),
      contextGuesses: [],
    };
    plans.set(featurizer, plan);
    return plan;
  }

  /** A JSON number at p into numberValue, as JSON.parse reads it. */
  function number(b: Uint8Array, p: number): number {
    const start = p;
    const negative = (b[p] as number) === MINUS;
    if (negative) p++;
    let c = b[p] as number;
    let value = 0;
    if (c === ZERO) p++;
    else if (c >= ONE && c <= NINE) {
      do {
        value = value * 10 + (c - ZERO);
        c = b[++p] as number;
      } while (c >= ZERO && c <= NINE);
    } else return -1;
    let plain = p - start - (negative ? 1 : 0) <= 15;
    if ((b[p] as number) === DOT) {
      const end = digitsEnd(b, p + 1);
      if (end === p + 1) return -1;
      p = end;
      plain = false;
    }
    c = b[p] as number;
    if (c === 0x65 || c === 0x45) {
      p++;
      c = b[p] as number;
      if (c === PLUS || c === MINUS) p++;
      const end = digitsEnd(b, p);
      if (end === p) return -1;
      p = end;
      plain = false;
    }
    numberValue = plain ? (negative ? -value : value) : Number(text.slice(start, p));
    return p;
  }

  /** The context object at p into the hash row at `row`. */
  function context(b: Uint8Array, p: number, plan: Plan, row: number): number {
    if ((b[p] as number) !== OPEN_OBJECT) return -1;
    p = skipWhitespace(b, p + 1);
    if ((b[p] as number) === CLOSE_OBJECT) return p + 1;
    const { featurizer, hashes, setIn, contextFields, contextGuesses } = plan;
    const generation = ++contextGeneration;
    for (let member = 0; ; member++) {
      if (member === maxContextKeys || (b[p] as number) !== QUOTE) return -1;
      const guess = contextGuesses[member];
      let keyEnd = guessedKeyEnd(guess, b, view, p);
      let field: number;
      if (keyEnd >= 0) field = (guess as KeyGuess).code;
      else {
        keyEnd = stringEnd(b, p);
        if (keyEnd < 0 || keyEnd - p - 1 > maxContextKeyLength) return -1;
        field = lookup(contextFields, b, p + 1, keyEnd);
        contextGuesses[member] = keyGuess(b.slice(p + 1, keyEnd), field);
      }
      if (field >= 0) {
        if (setIn[field] === generation) return -1;
        setIn[field] = generation;
      }
      p = past(b, keyEnd + 1, COLON);
      if (p < 0) return -1;
      p = skipWhitespace(b, p);
      const c = b[p] as number;
      if (c === QUOTE) {
        const end = stringEnd(b, p);
        if (end < 0 || end - p - 1 > maxStringLength) return -1;
        if (field >= 0) hashes[row + field] = featurizer.hashText(field, text, p + 1, end);
        p = end + 1;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        p = number(b, p);
        if (p < 0) return -1;
        if (field >= 0) hashes[row + field] = featurizer.hashValue(field, numberValue);
      } else {
        const word = c === 0x74 ? TRUE : c === 0x66 ? FALSE : c === 0x6e ? NULL : undefined;
        if (word === undefined || !sameBytes(word, b, p, p + word.length)) return -1;
        p += word.length;
        if (field >= 0) hashes[row + field] = featurizer.hashValue(field, word === NULL ? null : word === TRUE);
      }
      p = skipWhitespace(b, p);
      const next = b[p] as number;
      if (next === CLOSE_OBJECT) return p + 1;
      if (next !== COMMA) return -1;
      p = skipWhitespace(b, p + 1);
    }
  }

  /** The impression at p: its id into impressionId, its hashes into row `row`. */
  function impression(b: Uint8Array, p: number, plan: Plan, row: number): number {
    if ((b[p] as number) !== OPEN_OBJECT) return -1;
    const { hashes, columnField, featurizer } = plan;
    hashes.set(plan.missing, row);
    impressionId = undefined;
    p = skipWhitespace(b, p + 1);
    if ((b[p] as number) === CLOSE_OBJECT) return p + 1;
    let seen = 0;
    for (let member = 0; ; member++) {
      if ((b[p] as number) !== QUOTE) return -1;
      const guess = impressionGuesses[member];
      let keyEnd = guessedKeyEnd(guess, b, view, p);
      let key: number;
      if (keyEnd >= 0) key = (guess as KeyGuess).code;
      else {
        keyEnd = stringEnd(b, p);
        if (keyEnd < 0) return -1;
        key = lookup(IMPRESSION_KEYS, b, p + 1, keyEnd);
        if (key < 0) return -1;
        impressionGuesses[member] = IMPRESSION_KEY_GUESSES[key];
      }
      if ((seen & (1 << key)) !== 0) return -1;
      seen |= 1 << key;
      p = past(b, keyEnd + 1, COLON);
      if (p < 0) return -1;
      p = skipWhitespace(b, p);
      if (key === CONTEXT) {
        p = context(b, p, plan, row);
        if (p < 0) return -1;
      } else {
        if ((b[p] as number) !== QUOTE) return -1;
        const end = stringEnd(b, p);
        if (end < 0) return -1;
        if (key === ID) {
          if (end - p - 1 > maxIdLength) return -1;
          impressionId = text.slice(p + 1, end);
        } else {
          if (end - p - 1 > maxStringLength) return -1;
          const field = columnField[key] as number;
          if (field >= 0) hashes[row + field] = featurizer.hashText(field, text, p + 1, end);
        }
        p = end + 1;
      }
      p = skipWhitespace(b, p);
      const next = b[p] as number;
      if (next === CLOSE_OBJECT) return p + 1;
      if (next !== COMMA) return -1;
      p = skipWhitespace(b, p + 1);
    }
  }

  function scan(b: Uint8Array, model: LoadedModel): HashedPredictBody | undefined {
    const plan = planFor(model.scorer.featurizer);
    let p = skipWhitespace(b, 0);
    if ((b[p] as number) !== OPEN_OBJECT) return undefined;
    p = skipWhitespace(b, p + 1);
    if ((b[p] as number) !== QUOTE) return undefined;
    const keyEnd = stringEnd(b, p);
    if (keyEnd < 0 || !sameBytes(IMPRESSIONS, b, p + 1, keyEnd)) return undefined;
    p = skipWhitespace(b, keyEnd + 1);
    if ((b[p] as number) !== COLON) return undefined;
    p = skipWhitespace(b, p + 1);
    if ((b[p] as number) !== OPEN_ARRAY) return undefined;
    p = skipWhitespace(b, p + 1);
    const ids: (string | undefined)[] = [];
    for (;;) {
      // An empty or too long batch is named by the exact path.
      if (ids.length === maxBatchSize) return undefined;
      p = impression(b, p, plan, ids.length * plan.fieldCount);
      if (p < 0) return undefined;
      ids.push(impressionId);
      p = skipWhitespace(b, p);
      const next = b[p] as number;
      if (next === CLOSE_ARRAY) break;
      if (next !== COMMA) return undefined;
      p = skipWhitespace(b, p + 1);
    }
    p = skipWhitespace(b, p + 1);
    if ((b[p] as number) !== CLOSE_OBJECT || skipWhitespace(b, p + 1) !== b.length) return undefined;
    return new HashedPredictBody(model, ids.length, ids, plan.hashes.slice(0, ids.length * plan.fieldCount));
  }

  // The text's characters as bytes (one native copy): the scan then reads a typed array, several times
  // faster than charCodeAt, and slices ids and numbers out of the text.
  const encoder = new TextEncoder();
  let chars = new Uint8Array(4096);
  let view = new DataView(chars.buffer);
  let text = '';
  return (body, model) => {
    if (chars.length < body.length) {
      chars = new Uint8Array(Math.max(body.length, chars.length * 2));
      view = new DataView(chars.buffer);
    }
    const { read, written } = encoder.encodeInto(body, chars);
    // Anything but ASCII is left to the exact path; from here on a byte's index is its character's.
    if (read !== body.length || written !== body.length) return undefined;
    text = body;
    try {
      return scan(chars.subarray(0, written), model);
    } finally {
      text = '';
    }
  };
}
