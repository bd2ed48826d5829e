import { describe, expect, it } from 'vitest';
import { type Candidate, isRealGain, recommend } from '../../src/analyze/recommend.js';

const t = { minNeGain: 0.001, significanceZ: 2 };

describe('isRealGain', () => {
  it('needs both the minimum gain and the significance', () => {
    expect(isRealGain({ delta: 0.005, se: 0.001 }, t)).toBe(true);
    expect(isRealGain({ delta: 0.0005, se: 0.0001 }, t)).toBe(false);
    expect(isRealGain({ delta: 0.005, se: 0.003 }, t)).toBe(false);
    expect(isRealGain({ delta: -0.01, se: 0.001 }, t)).toBe(false);
  });
});

describe('recommend', () => {
  const items: Candidate[] = [
    { target: 'field', name: 'ad_id', origin: 'spec', gain: { delta: 0.02, se: 0.002 }, costNs: 100 },
    { target: 'field', name: 'os', origin: 'spec', gain: { delta: 0.004, se: 0.001 }, costNs: 10 },
    { target: 'field', name: 'noise', origin: 'spec', gain: { delta: -0.0004, se: 0.0003 }, costNs: 30 },
    { target: 'cross', name: 'a×b', origin: 'spec', gain: { delta: 0.0002, se: 0.0002 }, costNs: 40 },
    { target: 'cross', name: 'c×d', origin: 'candidate', gain: { delta: 0.006, se: 0.001 }, costNs: 35 },
    { target: 'cross', name: 'e×f', origin: 'candidate', gain: { delta: 0.0001, se: 0.001 }, costNs: 35 },
  ];
  const recs = recommend(items, t);

  it('adds real candidate gains, drops what does not pay, keeps the rest, and omits weak candidates', () => {
    const by = Object.fromEntries(recs.map((r) => [r.name, r.action]));
    expect(by).toEqual({ ad_id: 'keep', os: 'keep', noise: 'drop', 'a×b': 'drop', 'c×d': 'add' });
  });
  it('states the change in NE and ns with the right signs', () => {
    const add = recs.find((r) => r.name === 'c×d')!;
    expect(add.change).toBe('add');
    expect(add.neChange).toBeCloseTo(-0.006);
    expect(add.costNs).toBe(35);
    const drop = recs.find((r) => r.name === 'noise')!;
    expect(drop.change).toBe('remove');
    expect(drop.neChange).toBeCloseTo(-0.0004);
    expect(drop.costNs).toBe(-30);
    const keep = recs.find((r) => r.name === 'ad_id')!;
    expect(keep.neChange).toBeCloseTo(0.02);
    expect(keep.costNs).toBe(-100);
  });
  it('keeps a field that a kept or added cross needs, whatever its own gain, and says why', () => {
    const r = recommend(
      [
        {
          target: 'field',
          name: 'country',
          origin: 'spec',
          gain: { delta: 0.0001, se: 0.001 },
          costNs: 20,
          requiredBy: ['site×country'],
        },
      ],
      t,
    );
    expect(r[0]!.action).toBe('keep');
    expect(r[0]!.reason).toContain('needed by site×country');
  });

  it('appends an item note to its reason', () => {
    const r = recommend(
      [
        {
          target: 'cross',
          name: 'ad×cmp',
          origin: 'candidate',
          gain: { delta: 0.01, se: 0.001 },
          costNs: 20,
          note: 'ad determines cmp',
        },
      ],
      t,
    );
    expect(r[0]!.reason).toMatch(/^adding it lowers NE .*\. Note: ad determines cmp$/);
  });

  it('ranks actions by expected NE change, then keeps by NE lost per ns saved', () => {
    expect(recs.map((r) => r.name)).toEqual(['c×d', 'noise', 'a×b', 'ad_id', 'os']);
    expect(recs.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
  });
});
