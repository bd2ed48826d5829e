import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type SyntheticTrafficOptionsInput, syntheticImpressions } from '../src/index.js';

const start = new Date('2026-02-01T00:00:00Z');
const base: SyntheticTrafficOptionsInput = { seed: 5, days: 4, impressionsPerDay: 8_000, start };

describe('synthetic traffic with churn (new ads, campaigns and advertisers every day)', () => {
  it('leaves the traffic exactly as before when no new ads are asked for', () => {
    const plain = [...syntheticImpressions(base)];
    const zero = [...syntheticImpressions({ ...base, churn: { adsPerDay: 0, freshTraffic: 0.3 } })];
    expect(isDeepStrictEqual(plain, zero)).toBe(true);
  });

  it('brings new ads (some with new campaigns and advertisers) each day, served from the day they appear', () => {
    const rows = [...syntheticImpressions({ ...base, churn: { adsPerDay: 40, freshTraffic: 0.2 } })];
    const firstSeen = new Map<string, number>();
    for (const r of rows) {
      for (const v of [r.impression.ad_id, r.impression.campaign_id, r.impression.advertiser_id]) {
        if (!firstSeen.has(String(v))) firstSeen.set(String(v), r.day);
      }
    }
    for (let day = 1; day < 4; day++) {
      const ads = [...firstSeen].filter(([id, d]) => d === day && id.startsWith(`ad_d${String(day).padStart(3, '0')}`));
      expect(ads.length).toBeGreaterThan(30);
      expect([...firstSeen].some(([id, d]) => d === day && id.startsWith('cmp_d'))).toBe(true);
      expect([...firstSeen].some(([id, d]) => d === day && id.startsWith('adv_d'))).toBe(true);
    }
    // About freshTraffic of each day's impressions go to the newest ads.
    const lastDay = rows.filter((r) => r.day === 3);
    const fresh = lastDay.filter((r) => /^ad_d00[23]_/.test(String(r.impression.ad_id))).length / lastDay.length;
    expect(fresh).toBeGreaterThan(0.17);
    expect(fresh).toBeLessThan(0.23);
  });

  it('is the same traffic when days are appended later (firstDay)', () => {
    const churn = { adsPerDay: 25 };
    const all = [...syntheticImpressions({ ...base, churn })];
    const tail = [...syntheticImpressions({ ...base, churn, firstDay: 2, days: 2 })];
    expect(
      isDeepStrictEqual(
        all.filter((r) => r.day >= 2),
        tail,
      ),
    ).toBe(true);
  });
});
