import type { FieldSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { ReservoirSample } from '../../src/analyze/reservoir-sample.js';
import { isMissing, valueLabel } from '../../src/analyze/value-label.js';
import { wilsonInterval } from '../../src/analyze/wilson-interval.js';

describe('wilsonInterval', () => {
  it('matches the published 95% interval for 1 success in 10 trials (Wilson 1927; Newcombe 1998: 0.0179–0.4042)', () => {
    const ci = wilsonInterval(1, 10);
    expect(ci.low).toBeCloseTo(0.0179, 4);
    expect(ci.high).toBeCloseTo(0.4042, 4);
  });
  it('stays inside [0, 1] at the edges and brackets the observed rate', () => {
    expect(wilsonInterval(0, 50).low).toBe(0);
    expect(wilsonInterval(0, 50).high).toBeGreaterThan(0);
    expect(wilsonInterval(50, 50).high).toBe(1);
    const ci = wilsonInterval(30, 1000);
    expect(ci.low).toBeLessThan(0.03);
    expect(ci.high).toBeGreaterThan(0.03);
  });
  it('narrows as trials grow', () => {
    const a = wilsonInterval(3, 100);
    const b = wilsonInterval(300, 10_000);
    expect(b.high - b.low).toBeLessThan((a.high - a.low) / 5);
  });
});

describe('ReservoirSample', () => {
  it('keeps everything, in order, when the stream is shorter than the capacity', () => {
    const s = new ReservoirSample<number>(10, 1);
    for (let i = 0; i < 7; i++) s.offer(i);
    expect(s.items()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
  it('keeps exactly capacity items, in stream order, the same for the same seed', () => {
    const run = (seed: number) => {
      const s = new ReservoirSample<number>(100, seed);
      for (let i = 0; i < 10_000; i++) s.offer(i);
      return s.items();
    };
    const a = run(5);
    expect(a).toHaveLength(100);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(run(5)).toEqual(a);
    expect(run(6)).not.toEqual(a);
  });
  it('is uniform: late items are kept as often as early ones', () => {
    const s = new ReservoirSample<number>(2_000, 3);
    for (let i = 0; i < 20_000; i++) s.offer(i);
    const late = s.items().filter((i) => i >= 10_000).length;
    expect(late).toBeGreaterThan(900);
    expect(late).toBeLessThan(1_100);
  });
});

describe('value labels', () => {
  it('follows the featurizer missing rule', () => {
    const cat: FieldSpec = { name: 'os', source: 'column', kind: 'categorical' };
    const num: FieldSpec = { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 5] };
    expect(isMissing(cat, undefined)).toBe(true);
    expect(isMissing(cat, '')).toBe(true);
    expect(isMissing(cat, null)).toBe(true);
    expect(isMissing(cat, false)).toBe(false);
    expect(isMissing(num, 'abc')).toBe(true);
    expect(isMissing(num, '7')).toBe(false);
  });
  it('labels numeric values by the bucket they fall into', () => {
    const num: FieldSpec = { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 5] };
    expect(valueLabel(num, 0)).toBe('< 1');
    expect(valueLabel(num, 1)).toBe('[1, 5)');
    expect(valueLabel(num, 4.9)).toBe('[1, 5)');
    expect(valueLabel(num, 5)).toBe('≥ 5');
    const log: FieldSpec = { name: 'user_age_days', source: 'context', kind: 'log1p', scale: 1 };
    // floor(log1p(10)) = 2 → [e^2 − 1, e^3 − 1)
    expect(valueLabel(log, 10)).toBe('[6.39, 19.1)');
    expect(valueLabel(log, undefined)).toBe('(missing)');
  });
});
