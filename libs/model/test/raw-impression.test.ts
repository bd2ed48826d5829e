import { describe, expect, it } from 'vitest';
import { RawImpressionSchema } from '../src/index.js';

describe('RawImpressionSchema', () => {
  it('accepts a full impression and an empty one, and strips unknown top-level keys', () => {
    const full = {
      slot_id: 's',
      placement: 'p',
      ad_id: 'a',
      campaign_id: 'c',
      advertiser_id: 'v',
      device_type: 'mobile',
      os: 'ios',
      country: 'DE',
      context: { hour_of_day: 3, user_age_days: 12.5, page_views: 0, site_category: 'news', flag: true, gone: null },
    };
    expect(RawImpressionSchema.parse(full)).toEqual(full);
    expect(RawImpressionSchema.parse({})).toEqual({});
    expect(RawImpressionSchema.parse({ ad_id: 'a', extra: 1 })).toEqual({ ad_id: 'a' });
  });

  it('rejects wrong types (a number column, nested context values)', () => {
    expect(RawImpressionSchema.safeParse({ ad_id: 42 }).success).toBe(false);
    expect(RawImpressionSchema.safeParse({ context: { nested: { a: 1 } } }).success).toBe(false);
    expect(RawImpressionSchema.safeParse({ context: [1, 2] }).success).toBe(false);
  });
});
