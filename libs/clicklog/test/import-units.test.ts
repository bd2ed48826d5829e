import { describe, expect, it } from 'vitest';
import { progressLine } from '../src/import/import-progress.js';
import { parseLabel } from '../src/import/record-mapper.js';
import { timestampParser } from '../src/import/timestamp-parser.js';

const iso = (ms: number | string) => (typeof ms === 'number' ? new Date(ms).toISOString() : ms);

describe('timestampParser', () => {
  it('reads ISO with offsets, microseconds, and wall time in a zone (DST included)', () => {
    const paris = timestampParser('iso', 'Europe/Paris');
    expect(iso(paris('2019-11-24 00:00:34.762830+00:00'))).toBe('2019-11-24T00:00:34.762Z');
    expect(iso(paris('2024-01-15T12:00:00'))).toBe('2024-01-15T11:00:00.000Z');
    expect(iso(paris('2024-07-15 12:00'))).toBe('2024-07-15T10:00:00.000Z');
    expect(iso(paris('2024-07-15'))).toBe('2024-07-14T22:00:00.000Z');
    expect(iso(paris('2024-07-15T12:00:00-0130'))).toBe('2024-07-15T13:30:00.000Z');
    expect(paris('15/07/2024')).toMatch(/not ISO 8601/);
  });
  it('reads epoch seconds and milliseconds, patterns, and Date objects', () => {
    expect(iso(timestampParser('unix-s', 'UTC')('1700000000.5'))).toBe('2023-11-14T22:13:20.500Z');
    expect(iso(timestampParser('unix-ms', 'UTC')(1700000000123))).toBe('2023-11-14T22:13:20.123Z');
    expect(iso(timestampParser('YYMMDDHH', 'UTC')('14102100'))).toBe('2014-10-21T00:00:00.000Z');
    expect(iso(timestampParser('DD/MM/YYYY HH:mm', 'Asia/Tokyo')('15/07/2024 09:30'))).toBe('2024-07-15T00:30:00.000Z');
    expect(timestampParser('YYMMDDHH', 'UTC')('141021')).toMatch(/does not match the pattern YYMMDDHH/);
    expect(timestampParser('unix-s', 'UTC')('1e30')).toMatch(/out of range/);
    expect(timestampParser('unix-s', 'UTC')('')).toBe('timestamp is empty');
    expect(timestampParser('iso', 'UTC')(new Date(5))).toBe(5);
  });
  it('refuses an unknown time zone and a pattern without a year', () => {
    expect(() => timestampParser('iso', 'Mars/Base')).toThrow(RangeError);
    expect(() => timestampParser('MMDD', 'UTC')).toThrow(/no year/);
  });
});

describe('parseLabel', () => {
  it('takes flags and click counts, and names what it cannot read', () => {
    for (const v of [1, '1', 'true', 'Yes', true, 3, '2']) expect(parseLabel(v)).toBe(1);
    for (const v of [0, '0', 'false', 'no', false, 'N']) expect(parseLabel(v)).toBe(0);
    expect(parseLabel('')).toBe('label is empty');
    expect(parseLabel(-1)).toMatch(/not a click count/);
    expect(parseLabel('maybe')).toMatch(/"maybe" is not 0\/1/);
  });
});

describe('progressLine', () => {
  it('shows rows, rows/s, the share read and the ETA it implies', () => {
    const line = progressLine({
      phase: 'impressions',
      file: 'f',
      rows: 500_000,
      badRows: 3,
      progress: 0.25,
      elapsedMs: 2000,
    });
    expect(line).toBe('import impressions: 500,000 rows  250k rows/s  25%  ETA 6s  3 bad');
  });
});
