import type { ValidationIssue } from './validation-issue.js';

/** Bounds on a JSON text's shape, checked by scanJsonShape before the text is parsed. */
export interface JsonShapeLimits {
  /** Most objects and arrays nested in one another (the body itself is the first). */
  maxDepth: number;
  /** Most members of any one object. */
  maxObjectKeys: number;
  /** Most items of any one array. */
  maxArrayItems: number;
  /** Most objects and arrays in the whole text (each costs the parse an allocation). */
  maxContainers: number;
  /** Most values in the whole text: object members and array items, of any kind. */
  maxValues: number;
}

const OBJECT = 0;
const ARRAY = 1;

// Character codes of JSON's structure and whitespace (also read by predict-body-scan.ts).
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;

export const SPACE = 0x20;
export const NEWLINE = 0x0a;
export const RETURN = 0x0d;
export const TAB = 0x09;

/** Index of the quote closing the string whose opening quote is at `open`, or -1 when it never closes. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    for (let k = at - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}

function pointerToken(raw: string): string {
  let key = raw;
  if (raw.includes('\\')) {
    try {
      key = JSON.parse(`"${raw}"`) as string;
    } catch {
      // a malformed escape: the raw text names the key well enough
    }
  }
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Per open container: object or array, members seen so far, and (objects) where its current key lies
 * and whether a key comes next. One set for the process, grown to the deepest limit asked for: the scan
 * is synchronous, so no two scans share it at once, and a body costs no allocation to scan.
 */
const stack = {
  kind: new Uint8Array(0),
  count: new Uint32Array(0),
  keyStart: new Int32Array(0),
  keyEnd: new Int32Array(0),
  expectKey: new Uint8Array(0),
};

function reserve(maxDepth: number): void {
  if (stack.kind.length >= maxDepth) return;
  stack.kind = new Uint8Array(maxDepth);
  stack.count = new Uint32Array(maxDepth);
  stack.keyStart = new Int32Array(maxDepth);
  stack.keyEnd = new Int32Array(maxDepth);
  stack.expectKey = new Uint8Array(maxDepth);
}

/** JSON pointer of the value now being read inside the `depth` open containers. */
function pathAt(text: string, depth: number): string {
  let pointer = '';
  for (let d = 0; d < depth; d++) {
    pointer += `/${stack.kind[d] === ARRAY ? String((stack.count[d] as number) - 1) : pointerToken(text.slice(stack.keyStart[d], stack.keyEnd[d]))}`;
  }
  return pointer;
}

function fault(instancePath: string, keyword: string, message: string): ValidationIssue {
  return { keyword, instancePath, schemaPath: '#/limits', params: {}, message };
}

function tooManyValues(text: string, depth: number, maxValues: number): ValidationIssue {
  return fault(
    pathAt(text, depth),
    'maxValues',
    `is past the ${maxValues} values a body may hold in all (members and items)`,
  );
}

/**
 * The first shape limit a JSON text breaks, as a validation issue naming where, else undefined.
 *
 * Why before JSON.parse: the costs a hostile body within the byte limit can impose are inside the
 * parse itself (150k nested objects, one object with 60k keys in dictionary mode, 300k empty
 * objects in arrays of a thousand, half a million numbers), before any check on the parsed value
 * can run. This is one pass over the text,
 * allocating nothing until it has a fault to name, stopping at the first byte that breaks a limit
 * (the 65th key, the 17th level), so a hostile body costs less to refuse than a valid one to parse.
 *
 * It reads structure only, not validity: a malformed text passes (or breaks a limit on the way) and
 * JSON.parse then refuses it. Strings are skipped whole (indexOf of the closing quote), so the scan
 * costs about one memchr over the string-heavy bodies /predict receives.
 */
export function scanJsonShape(text: string, limits: JsonShapeLimits): ValidationIssue | undefined {
  const { maxDepth, maxObjectKeys, maxArrayItems, maxContainers, maxValues } = limits;
  reserve(maxDepth);
  const { kind, count, keyStart, keyEnd, expectKey } = stack;
  let depth = 0;
  let containers = 0;
  let values = 0;

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === COLON || c === NEWLINE || c === RETURN || c === TAB) continue;
    const top = depth - 1;
    if (c === COMMA) {
      if (top < 0) continue;
      const members = (count[top] as number) + 1;
      count[top] = members;
      if (++values > maxValues) {
        // the next key is not read yet: name the object
        return tooManyValues(text, kind[top] === OBJECT ? top : depth, maxValues);
      }
      if (kind[top] === OBJECT) {
        expectKey[top] = 1;
        if (members > maxObjectKeys) {
          return fault(pathAt(text, top), 'maxProperties', `must NOT have more than ${maxObjectKeys} properties`);
        }
      } else if (members > maxArrayItems) {
        return fault(pathAt(text, top), 'maxItems', `must NOT have more than ${maxArrayItems} items`);
      }
      continue;
    }
    if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      continue;
    }
    // The start of a value, or of a key: the first member of its container counts here, later ones at their comma.
    if (top >= 0 && count[top] === 0) {
      count[top] = 1;
      if (++values > maxValues) return tooManyValues(text, depth, maxValues);
    }
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (end === -1) return undefined; // unterminated: JSON.parse names it
      if (top >= 0 && expectKey[top] === 1) {
        keyStart[top] = i + 1;
        keyEnd[top] = end;
        expectKey[top] = 0;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === maxDepth) {
        return fault(
          pathAt(text, depth),
          'maxDepth',
          `must NOT nest objects and arrays more than ${maxDepth} levels deep`,
        );
      }
      if (++containers > maxContainers) {
        return fault(
          pathAt(text, depth),
          'maxContainers',
          `is past the ${maxContainers} objects and arrays a body may hold in all`,
        );
      }
      kind[depth] = c === OPEN_OBJECT ? OBJECT : ARRAY;
      count[depth] = 0;
      expectKey[depth] = c === OPEN_OBJECT ? 1 : 0;
      depth++;
    }
    // anything else is part of a number or a literal: nothing to count
  }
  return undefined;
}
