import { describe, expect, it } from 'vitest';
import { windowBounds } from '../src/pipeline/load-window.js';

const window = { trainWindowHours: 48, holdoutHours: 6, attributionWindowMinutes: 30 };

describe('windowBounds', () => {
  it('ends now and leaves the label-delay rule to the database clock by default', () => {
    const now = new Date('2026-05-10T12:00:00Z');
    expect(windowBounds({ ...window, end: undefined }, () => now)).toEqual({
      from: new Date('2026-05-08T12:00:00Z'),
      to: now,
      now: undefined,
    });
  });

  it('replays a fixed end with labels as they stood one attribution window later', () => {
    const end = new Date('2026-03-05T00:00:00Z');
    expect(windowBounds({ ...window, end })).toEqual({
      from: new Date('2026-03-03T00:00:00Z'),
      to: end,
      now: new Date('2026-03-05T00:30:00Z'),
    });
  });
});
