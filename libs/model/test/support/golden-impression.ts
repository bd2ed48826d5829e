import type { RawImpression } from '../../src/index.js';

/** The impression the featurizer's and the vocabulary's golden vectors are computed from: every default field set. */
export const GOLDEN_IMPRESSION: RawImpression = {
  slot_id: 'slot-0042',
  placement: 'sidebar',
  ad_id: 'ad-1337',
  campaign_id: 'cmp-17',
  advertiser_id: 'adv-3',
  device_type: 'mobile',
  os: 'android',
  country: 'DE',
  context: { hour_of_day: 14, user_age_days: 365.5, page_views: 7, site_category: 'news' },
};
