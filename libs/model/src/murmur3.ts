/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain), over bytes, little-endian 32-bit words and
 * JS strings (hashed as their UTF-8 bytes, lone surrogates as U+FFFD like TextEncoder). Checked
 * against the published test vectors in test/murmur3.test.ts.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Mixes one 32-bit block into the running hash `h`. */
export function murmur3MixBlock(h: number, k: number): number {
  let kk = Math.imul(k, C1);
  kk = (kk << 15) | (kk >>> 17);
  kk = Math.imul(kk, C2);
  let hh = h ^ kk;
  hh = (hh << 13) | (hh >>> 19);
  return (Math.imul(hh, 5) + 0xe6546b64) | 0;
}

// The *I32 functions return the hash as a signed int32 (its bit pattern), which V8 keeps unboxed; the
// public functions return it as the conventional uint32.

/** Final avalanche: mixes in the byte length; returns the hash as a signed int32. */
export function murmur3FinalizeI32(h: number, byteLength: number): number {
  let hh = h ^ byteLength;
  hh ^= hh >>> 16;
  hh = Math.imul(hh, 0x85ebca6b);
  hh ^= hh >>> 13;
  hh = Math.imul(hh, 0xc2b2ae35);
  hh ^= hh >>> 16;
  return hh | 0;
}

/** MurmurHash3 x86_32 of `data[0..length)` (uint32). */
export function murmur3Bytes(data: Uint8Array, length: number, seed: number): number {
  return murmur3BytesI32(data, length, seed) >>> 0;
}

export function murmur3BytesI32(data: Uint8Array, length: number, seed: number): number {
  let h = seed | 0;
  const blocksEnd = length & ~3;
  let i = 0;
  for (; i < blocksEnd; i += 4) {
    const k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    h = murmur3MixBlock(h, k);
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= (data[i + 2] as number) << 16;
    if (tail >= 2) k ^= (data[i + 1] as number) << 8;
    k ^= data[i] as number;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return murmur3FinalizeI32(h, length);
}

/** MurmurHash3 x86_32 of one uint32 taken as its 4 little-endian bytes (uint32). */
export function murmur3Uint32(value: number, seed: number): number {
  return murmur3Uint32I32(value, seed) >>> 0;
}

export function murmur3Uint32I32(value: number, seed: number): number {
  return murmur3FinalizeI32(murmur3MixBlock(seed | 0, value | 0), 4);
}

let scratch = new Uint8Array(256);

/**
 * Writes the UTF-8 encoding of `s` into the module's reusable scratch buffer and returns its length.
 * The buffer grows (rarely) for long strings; it is never shrunk.
 */
function encodeUtf8Scratch(s: string): number {
  const n = s.length;
  if (n * 3 > scratch.length) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  const buf = scratch;
  let p = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/**
 * The non-ASCII path: encode first, then read `scratch`, which the encoding may have replaced by a larger
 * buffer (reading it before, as an argument beside the call, hashed the old buffer's bytes).
 */
function murmur3Utf8I32(s: string, seed: number): number {
  const length = encodeUtf8Scratch(s);
  return murmur3BytesI32(scratch, length, seed);
}

/** MurmurHash3 x86_32 of the UTF-8 bytes of `s`, without allocating (uint32). */
export function murmur3String(s: string, seed: number): number {
  return murmur3StringI32(s, seed) >>> 0;
}

export function murmur3StringI32(s: string, seed: number): number {
  return murmur3TextRangeI32(s, 0, s.length, seed);
}

/**
 * murmur3StringI32(text.slice(start, end)) without the slice when the range is ASCII (a caller hashing
 * values inside a JSON text it reads itself); int32.
 */
export function murmur3TextRangeI32(text: string, start: number, end: number, seed: number): number {
  const n = end - start;
  // ASCII fast path: hash char codes directly, 4 at a time, falling back on the first non-ASCII char.
  let h = seed | 0;
  let i = start;
  const blocksEnd = start + (n & ~3);
  for (; i < blocksEnd; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) return murmur3Utf8I32(text.slice(start, end), seed);
    h = murmur3MixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const tail = n & 3;
  if (tail !== 0) {
    const c0 = text.charCodeAt(i);
    const c1 = tail >= 2 ? text.charCodeAt(i + 1) : 0;
    const c2 = tail === 3 ? text.charCodeAt(i + 2) : 0;
    if ((c0 | c1 | c2) >= 0x80) return murmur3Utf8I32(text.slice(start, end), seed);
    let k = c0 | (c1 << 8) | (c2 << 16);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return murmur3FinalizeI32(h, n);
}

/**
 * MurmurHash3 x86_32 of the decimal text of a safe integer (as `String(value)` would write it), without
 * allocating (uint32). Callers guarantee `Number.isSafeInteger(value)`.
 */
export function murmur3SafeInteger(value: number, seed: number): number {
  return murmur3SafeIntegerI32(value, seed) >>> 0;
}

export function murmur3SafeIntegerI32(value: number, seed: number): number {
  const buf = scratch;
  let v = value < 0 ? -value : value;
  let p = 0;
  do {
    const d = v % 10;
    buf[p++] = 48 + d;
    v = (v - d) / 10;
  } while (v > 0);
  if (value < 0) buf[p++] = 45; // '-'
  for (let a = 0, b = p - 1; a < b; a++, b--) {
    const t = buf[a] as number;
    buf[a] = buf[b] as number;
    buf[b] = t;
  }
  return murmur3BytesI32(buf, p, seed);
}
