import { QUOTE } from './json-shape-scan.js';

// Keys of a JSON body found in its bytes, without building a string (the /predict body scan).

/** The bytes of an ASCII string. */
export const ascii = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** Short ASCII keys by length, each list probed by first character then whole: a key is found without building a string. */
export type KeyTable = ({ key: Uint8Array; code: number }[] | undefined)[];

export function keyTable(entries: readonly (readonly [string, number])[]): KeyTable {
  const table: KeyTable = [];
  for (const [name, code] of entries) {
    const list = table[name.length] ?? [];
    list.push({ key: ascii(name), code });
    table[name.length] = list;
  }
  return table;
}

/** Whether `b[start..end)` holds exactly the bytes of `key`. */
export function sameBytes(key: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (key.length !== end - start) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== (b[start + i] as number)) return false;
  return true;
}

/** The code of the key `b.slice(start, end)` in the table, or -1. */
export function lookup(table: KeyTable, b: Uint8Array, start: number, end: number): number {
  const list = table[end - start];
  if (list === undefined) return -1;
  for (let k = 0; k < list.length; k++) {
    const entry = list[k] as { key: Uint8Array; code: number };
    if (entry.key[0] === (b[start] as number) && sameBytes(entry.key, b, start, end)) return entry.code;
  }
  return -1;
}

/**
 * The key last met at one member position of an object: bodies repeat their key order, so a key is
 * checked against the guess (its characters, then the closing quote) instead of scanned and looked up.
 */
export interface KeyGuess {
  key: Uint8Array;
  /** The key's whole 4-byte words, little-endian: compared four bytes at a time. */
  words: Int32Array;
  code: number;
}

export function keyGuess(key: Uint8Array, code: number): KeyGuess {
  const words = new Int32Array(key.length >> 2);
  for (let w = 0; w < words.length; w++) {
    const i = 4 * w;
    words[w] =
      (key[i] as number) |
      ((key[i + 1] as number) << 8) |
      ((key[i + 2] as number) << 16) |
      ((key[i + 3] as number) << 24);
  }
  return { key, words, code };
}

/** Where the key at p (an opening quote) ends if it is the guessed one, else -1. `view` reads `b`'s bytes. */
export function guessedKeyEnd(guess: KeyGuess | undefined, b: Uint8Array, view: DataView, p: number): number {
  if (guess === undefined) return -1;
  const start = p + 1;
  const { key, words } = guess;
  const end = start + key.length;
  if (end >= b.length || (b[end] as number) !== QUOTE) return -1;
  for (let w = 0; w < words.length; w++) if (view.getInt32(start + 4 * w, true) !== words[w]) return -1;
  for (let i = 4 * words.length; i < key.length; i++) if (key[i] !== b[start + i]) return -1;
  return end;
}
