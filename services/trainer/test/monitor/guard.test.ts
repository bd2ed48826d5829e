import { describe, expect, it } from 'vitest';
import { guardCalibration } from '../../src/monitor/guard.js';
import type { LiveQuality } from '../../src/monitor/live-quality.js';

const settings = { calibrationMin: 0.8, calibrationMax: 1.25, z: 2, hours: 3 };
const hour = (h: number) => new Date(Date.UTC(2026, 2, 1, h));

function q(h: number, calibration: number, se: number, clicks = 100, version = '4'): LiveQuality {
  return {
    version,
    hour: hour(h),
    impressions: 10_000,
    clicks,
    sumPredicted: calibration * clicks,
    calibration: { value: calibration, se },
    logloss: { value: 0.1, se: 0.001 },
    auc: { value: 0.7, se: 0.01 },
  };
}

describe('guardCalibration', () => {
  it('fires when each of the last N hours is outside the band by more than z standard errors', () => {
    const d = guardCalibration('4', [q(1, 1.0, 0.05), q(2, 1.6, 0.1), q(3, 1.7, 0.1), q(4, 1.55, 0.1)], settings);
    expect(d.state).toBe('alarm');
    expect(d.hours.map((h) => h.verdict)).toEqual(['above', 'above', 'above']);
    expect(d.reason).toContain('outside [0.8, 1.25]');
  });

  it('does not fire when an hour is outside but within its uncertainty of the band', () => {
    // 1.4 − 2·0.1 = 1.2 < 1.25: the interval still reaches into the band.
    const d = guardCalibration('4', [q(2, 1.6, 0.1), q(3, 1.4, 0.1), q(4, 1.6, 0.1)], settings);
    expect(d.state).toBe('ok');
    expect(d.hours[1]?.verdict).toBe('inside');
  });

  it('does not fire when one recent hour is back inside, nor on another version', () => {
    expect(guardCalibration('4', [q(2, 1.6, 0.1), q(3, 1.6, 0.1), q(4, 1.0, 0.1)], settings).state).toBe('ok');
    const other = [q(2, 1.6, 0.1, 100, '5'), q(3, 1.6, 0.1, 100, '5'), q(4, 1.6, 0.1, 100, '5')];
    expect(guardCalibration('4', other, settings).state).toBe('insufficient-data');
  });

  it('fires below the band too (under-prediction)', () => {
    const d = guardCalibration('4', [q(2, 0.5, 0.05), q(3, 0.55, 0.05), q(4, 0.6, 0.05)], settings);
    expect(d.state).toBe('alarm');
    expect(d.hours.every((h) => h.verdict === 'below')).toBe(true);
  });

  it('says so when there are fewer hours of traffic than it needs', () => {
    const d = guardCalibration('4', [q(3, 1.6, 0.1), q(4, 1.6, 0.1)], settings);
    expect(d.state).toBe('insufficient-data');
    expect(d.reason).toContain('needs 3');
  });

  it('counts an hour without clicks against the model only when even one click would leave it above', () => {
    const noClicks = (h: number, sumPredicted: number): LiveQuality => ({
      ...q(h, Number.POSITIVE_INFINITY, Number.NaN, 0),
      sumPredicted,
    });
    expect(guardCalibration('4', [noClicks(2, 5), noClicks(3, 5), noClicks(4, 5)], settings).state).toBe('alarm');
    expect(guardCalibration('4', [noClicks(2, 0.5), noClicks(3, 5), noClicks(4, 5)], settings).state).toBe('ok');
  });
});
