import { syntheticImpressions } from '@fallback-ctr/clicklog';
import { describe, expect, it } from 'vitest';
import { coldStartReport } from './support/cold-start.js';

// Traffic with 600 new ads a day (some in new campaigns of new advertisers), 30 % of it on ads at most a
// day old; the last day is the holdout. Its never-seen ads are the day's 600 new ones plus the tail of the
// old ones: about 12,000 impressions and 340 clicks, so Σp/Σy is measured to about ±6 % (one SE).
const rows = Array.from(
  syntheticImpressions({
    seed: 8,
    days: 7,
    impressionsPerDay: 80_000,
    baseCtr: 0.03,
    start: new Date('2026-11-01T00:00:00Z'),
    churn: { adsPerDay: 600, freshTraffic: 0.3 },
  }),
);

describe('cold start (vocabulary + rare tokens drawn per value: TRAIN_MIN_VALUE_COUNT 5, TRAIN_RARE_RATE 0.02)', () => {
  it('keeps never-seen ads calibrated (0.8-1.25), an all-unknown impression within 0.5x-2x the base rate, at no NE cost', async () => {
    const before = await coldStartReport(rows, 6, { minCount: 0, rareRate: 0 });
    const perImpression = await coldStartReport(rows, 6, { minCount: 5, rareRate: 0.02 });
    const after = await coldStartReport(rows, 6, { minCount: 5, rareRate: 0.02, perValue: true });
    // Never-seen ads, scored through the rare token.
    expect(after.newAdClicks).toBeGreaterThan(300);
    expect(after.newAdCalibration).toBeGreaterThan(0.8);
    expect(after.newAdCalibration).toBeLessThan(1.25);
    // Drawn per impression, a few popular ads decide what the rare token learns: over-predicted here.
    expect(perImpression.newAdCalibration).toBeGreaterThan(1.25);
    // An impression whose every value is unknown: 5x the base rate without rare tokens.
    expect(before.allUnknownRatio).toBeGreaterThan(4);
    expect(after.allUnknownRatio).toBeGreaterThan(0.5);
    expect(after.allUnknownRatio).toBeLessThan(2);
    // NE on the rest of the holdout: no worse than without rare tokens, nor than drawn per impression, by 0.2 %.
    expect(after.restNe).toBeLessThan(before.restNe * 1.002);
    expect(after.restNe).toBeLessThan(perImpression.restNe * 1.002);
  }, 120_000);
});
