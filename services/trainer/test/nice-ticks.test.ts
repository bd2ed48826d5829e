import { describe, expect, it } from 'vitest';
import { formatNumber, linearTicks, logTicks, niceStep } from '../src/nice-ticks.js';

describe('nice ticks', () => {
  it('picks 1-2-5 steps', () => {
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(0.0625, 5)).toBe(0.02);
    expect(niceStep(0.06, 5)).toBeCloseTo(0.02, 12);
    expect(niceStep(700, 5)).toBe(200);
  });

  it('labels every tick exactly, with the decimals of its step', () => {
    // The range that used to read 0.012, 0.037, 0.062 (toPrecision(2) of 0.0125 steps).
    expect(linearTicks(0, 0.0625, 5).map((t) => t.label)).toEqual(['0.00', '0.02', '0.04', '0.06']);
    expect(linearTicks(0.1, 0.12, 4).map((t) => t.label)).toEqual(['0.100', '0.105', '0.110', '0.115', '0.120']);
    expect(linearTicks(0, 1, 5).map((t) => t.value)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(0, 20_000, 4).map((t) => t.label)).toEqual(['0', '5,000', '10,000', '15,000', '20,000']);
  });

  it('puts 1, 2 and 5 of each decade on a log axis, and only powers of ten over many decades', () => {
    expect(logTicks(0.002, 0.2).map((t) => t.label)).toEqual(['0.002', '0.005', '0.01', '0.02', '0.05', '0.1', '0.2']);
    expect(logTicks(1e-6, 1).map((t) => t.label)).toEqual([
      '0.000001',
      '0.00001',
      '0.0001',
      '0.001',
      '0.01',
      '0.1',
      '1',
    ]);
  });

  it('groups thousands', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(0.5, 2)).toBe('0.50');
  });
});
