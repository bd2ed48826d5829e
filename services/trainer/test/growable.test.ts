import { describe, expect, it } from 'vitest';
import { GrowableFloat64, GrowableUint8 } from '../src/growable.js';

describe('growable typed arrays', () => {
  it('keep every value across growth', () => {
    const f = new GrowableFloat64();
    const u = new GrowableUint8();
    for (let i = 0; i < 5_000; i++) {
      f.push(i / 7);
      u.push(i % 2);
    }
    expect(f.length).toBe(5_000);
    expect(f.view()).toHaveLength(5_000);
    expect(f.view()[4_999]).toBeCloseTo(4_999 / 7, 12);
    expect(f.view()[1_024]).toBeCloseTo(1_024 / 7, 12);
    expect(u.view()).toBeInstanceOf(Uint8Array);
    expect(Array.from(u.view().subarray(1_022, 1_027))).toEqual([0, 1, 0, 1, 0]);
  });
});
