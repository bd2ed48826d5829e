import { describe, expect, it } from 'vitest';
import { murmur3Bytes, murmur3SafeInteger, murmur3String, murmur3Uint32 } from '../src/murmur3.js';

// Published MurmurHash3 x86_32 test vectors (SMHasher's reference implementation, as collected in the
// widely cited "MurmurHash3 test vectors" answer on Stack Overflow).
const BYTE_VECTORS: Array<[number[], number, number]> = [
  [[], 0, 0],
  [[], 1, 0x514e28b7],
  [[], 0xffffffff, 0x81f16f39],
  [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
  [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
  [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
  [[0x21, 0x43, 0x65], 0, 0x7e4a8634],
  [[0x21, 0x43], 0, 0xa0f7b07a],
  [[0x21], 0, 0x72661cf4],
  [[0, 0, 0, 0], 0, 0x2362f9de],
  [[0, 0, 0], 0, 0x85f0b427],
  [[0, 0], 0, 0x30f4c306],
  [[0], 0, 0x514e28b7],
];

const STRING_VECTORS: Array<[string, number, number]> = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['Hello, world!', 1234, 0xfaf6cdb3],
  ['Hello, world!', 4321, 0xbf505788],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['aa', 0x9747b28c, 0x5d211726],
  ['aaa', 0x9747b28c, 0x283e0130],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['ab', 0x9747b28c, 0x74875592],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['abc', 0, 0xb3dd93fa],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ['hello', 0, 0x248bfa47],
];

describe('MurmurHash3 x86_32', () => {
  it.each(BYTE_VECTORS)('bytes %j seed %i', (bytes, seed, expected) => {
    expect(murmur3Bytes(Uint8Array.from(bytes), bytes.length, seed)).toBe(expected);
  });

  it.each(STRING_VECTORS)('string %j seed %i', (s, seed, expected) => {
    expect(murmur3String(s, seed)).toBe(expected);
    const utf8 = new TextEncoder().encode(s);
    expect(murmur3Bytes(utf8, utf8.length, seed)).toBe(expected);
  });

  it('hashes strings as their UTF-8 bytes, lone surrogates as U+FFFD (like TextEncoder)', () => {
    const enc = new TextEncoder();
    const samples = [
      'é',
      'naïve café',
      '日本語のテキスト',
      'emoji 😀 ok',
      'ab😀',
      '\ud800',
      'x\udc00y',
      'abc\u0080',
      '\u07ff\u0800',
    ];
    let state = 7;
    const rand = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(rand() * 12);
      let s = '';
      for (let k = 0; k < len; k++) {
        const r = rand();
        s += String.fromCharCode(r < 0.6 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 0x10000));
      }
      samples.push(s);
    }
    for (const s of samples) {
      const bytes = enc.encode(s);
      expect(murmur3String(s, 42), JSON.stringify(s)).toBe(murmur3Bytes(bytes, bytes.length, 42));
    }
  });

  it('hashes a non-ASCII string longer than any before right the first time (the UTF-8 scratch grows then)', () => {
    const long = `é${'x'.repeat(20_000)}`;
    const bytes = new TextEncoder().encode(long);
    const expected = murmur3Bytes(bytes, bytes.length, 42);
    expect(murmur3String(long, 42)).toBe(expected);
    expect(murmur3String(long, 42)).toBe(expected);
  });

  it('hashes a uint32 as its 4 little-endian bytes', () => {
    for (const v of [0, 1, 0x87654321, 0xffffffff, 123456789]) {
      const b = new Uint8Array(new Uint32Array([v]).buffer);
      expect(murmur3Uint32(v, 99)).toBe(murmur3Bytes(b, 4, 99));
    }
    expect(murmur3Uint32(0x87654321, 0)).toBe(0xf55b516b);
  });

  it('hashes safe integers as their decimal text', () => {
    for (const v of [0, -0, 7, -7, 10, 23, 100, -1234567, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(murmur3SafeInteger(v, 5)).toBe(murmur3String(String(v), 5));
    }
  });
});
