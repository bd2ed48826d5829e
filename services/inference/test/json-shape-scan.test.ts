import { describe, expect, it } from 'vitest';
import { scanJsonShape } from '../src/json-shape-scan.js';
import { predictShapeLimits } from '../src/predict-limits.js';

const limits = { maxDepth: 4, maxObjectKeys: 3, maxArrayItems: 5, maxContainers: 6, maxValues: 12 };
const scan = (text: string) => scanJsonShape(text, limits);
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('scanJsonShape: the shape limits read off the raw text, before any parse', () => {
  it('passes a text exactly at every limit', () => {
    const atLimits = JSON.stringify({ a: [1, 2, 3, 4, { b: [] }], c: keys(3), d: '' });
    expect(scan(atLimits)).toBeUndefined();
    expect(scan('[[[[]]]]')).toBeUndefined();
    expect(scan('{}')).toBeUndefined();
    expect(scan('  [ ]  ')).toBeUndefined();
  });

  it('names the container one level too deep, and the limit', () => {
    expect(scan('{"a":[{"b":{"c":{}}}]}')).toMatchObject({
      keyword: 'maxDepth',
      instancePath: '/a/0/b/c',
      message: 'must NOT nest objects and arrays more than 4 levels deep',
    });
    expect(scan('[[[[[]]]]]')).toMatchObject({ keyword: 'maxDepth', instancePath: '/0/0/0/0' });
    expect(scan('[1,2,[3,[4,5,[[]]]]]')).toMatchObject({ instancePath: '/2/1/2/0' });
  });

  it('names the object with one key too many', () => {
    expect(scan(JSON.stringify({ x: [{}, keys(4)] }))).toMatchObject({
      keyword: 'maxProperties',
      instancePath: '/x/1',
      message: 'must NOT have more than 3 properties',
    });
    expect(scan(JSON.stringify(keys(4)))).toMatchObject({ instancePath: '' });
  });

  it('names the array with one item too many, whatever the items are', () => {
    expect(scan(JSON.stringify({ impressions: [1, 'a', null, {}, [], true] }))).toMatchObject({
      keyword: 'maxItems',
      instancePath: '/impressions',
      message: 'must NOT have more than 5 items',
    });
  });

  it('names the value past the body-wide count of objects and arrays, and of values', () => {
    expect(scan('[[],[],[],[],[]]')).toBeUndefined();
    expect(scan('[[],[],[],[],{"a":[]}]')).toMatchObject({
      keyword: 'maxContainers',
      instancePath: '/4/a',
      message: 'is past the 6 objects and arrays a body may hold in all',
    });
    expect(scan('[[1,2,3,4,5],[1,2,3],[1,2]]')).toMatchObject({ keyword: 'maxValues', instancePath: '/2/1' });
    expect(scan('{"a":[1,2,3,4,5],"b":[1,2,3,4,5],"c":1}')).toMatchObject({
      keyword: 'maxValues',
      instancePath: '',
      message: 'is past the 12 values a body may hold in all (members and items)',
    });
  });

  it('stops at the first offending byte: what follows it is never read', () => {
    // Unterminated after the fault: a scan that read on would have nothing to say (or fail).
    expect(scan('[[[[[ "never closed')).toMatchObject({ keyword: 'maxDepth' });
    expect(scan('[1,2,3,4,5,6, {"broken')).toMatchObject({ keyword: 'maxItems' });
  });

  it('counts nothing inside strings: brackets, commas, quotes escaped any number of times', () => {
    const tricky = JSON.stringify({ a: '[[[[[{{{{{,,,,,,,', 'b,c,d': 'x\\"[[[[[', '\\': ['\\\\', '"{"'] });
    expect(scan(tricky)).toBeUndefined();
    expect(scan(JSON.stringify([',,,,,,,,,,', '\\', '"]]]]]']))).toBeUndefined();
  });

  it('writes keys in the path as JSON pointer tokens, escapes decoded', () => {
    const text = `{"a/b~c":{"q\\"\\u0041":[[[1]]]}}`;
    expect(scan(text)).toMatchObject({ instancePath: '/a~1b~0c/q"A/0/0' });
  });

  it('leaves a malformed text to JSON.parse', () => {
    expect(scan('{"a": "unterminated')).toBeUndefined();
    expect(scan('}}]]{')).toBeUndefined();
    expect(scan('')).toBeUndefined();
  });

  it('refuses the hostile bodies of the bench within a few bytes of where they break a limit', () => {
    const predict = predictShapeLimits(1000);
    const deep = `{"impressions":[{"context":${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}}]}`;
    expect(scanJsonShape(deep, predict)).toMatchObject({
      keyword: 'maxDepth',
      instancePath: `/impressions/0/context${'/a'.repeat(13)}`,
    });
    const wide = JSON.stringify({ impressions: [{ context: keys(60_000) }] });
    expect(scanJsonShape(wide, predict)).toMatchObject({
      keyword: 'maxProperties',
      instancePath: '/impressions/0/context',
    });
    const long = JSON.stringify({ impressions: Array.from({ length: 400_000 }, () => 1) });
    expect(scanJsonShape(long, predict)).toMatchObject({ keyword: 'maxItems', instancePath: '/impressions' });
    const rows = (item: string) => Array.from({ length: 330 }, () => `[${Array(1000).fill(item).join(',')}]`);
    const objects = `{"impressions":[{"ignored":[${rows('{}').join(',')}]}]}`;
    expect(scanJsonShape(objects, predict)).toMatchObject({
      keyword: 'maxContainers',
      instancePath: '/impressions/0/ignored/8/3',
    });
    const numbers = `{"impressions":[{"ignored":[${rows('1').join(',')}]}]}`;
    expect(scanJsonShape(numbers, predict)).toMatchObject({
      keyword: 'maxValues',
      instancePath: expect.stringMatching(/^\/impressions\/0\/ignored\/129\/\d+$/),
    });
  });

  it('passes the largest body the predict limits allow: a full batch, every key used', () => {
    const context = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`c${i}`, i]));
    const impression = { ...Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`k${i}`, 'v'])), context };
    const body = JSON.stringify({ impressions: Array.from({ length: 1000 }, () => impression) });
    expect(scanJsonShape(body, predictShapeLimits(1000))).toBeUndefined();
  });
});
