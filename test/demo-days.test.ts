import { describe, expect, it } from 'vitest';
import { DEMO_ATTRIBUTION_WINDOW_MINUTES, demoToday } from '../scripts/demo/demo-days.js';

const at = (iso: string) => Date.parse(iso);

describe("the demo's days", () => {
  it('today is the UTC day of now once the attribution window has passed since midnight', () => {
    expect(demoToday(at('2026-12-01T12:00:00Z'))).toBe(at('2026-12-01T00:00:00Z'));
    expect(demoToday(at('2026-12-01T00:30:00Z'))).toBe(at('2026-12-01T00:00:00Z'));
  });

  it('just after midnight the day that just ended is not final yet: the days move back by one', () => {
    expect(demoToday(at('2026-12-01T00:02:13Z'))).toBe(at('2026-11-30T00:00:00Z'));
    expect(demoToday(at('2026-12-01T00:29:59Z'))).toBe(at('2026-11-30T00:00:00Z'));
  });

  it("the second run's window end (today) is never later than now minus the attribution window", () => {
    const windowMs = DEMO_ATTRIBUTION_WINDOW_MINUTES * 60_000;
    for (let minute = 0; minute < 24 * 60; minute += 7) {
      const now = at('2026-12-01T00:00:00Z') + minute * 60_000;
      expect(demoToday(now)).toBeLessThanOrEqual(now - windowMs);
      expect(now - demoToday(now)).toBeLessThan(86_400_000 + windowMs);
    }
  });
});
