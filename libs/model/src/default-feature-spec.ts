import { categoricalFields } from './categorical-fields.js';
import { type FeatureSpec, parseFeatureSpec } from './feature-spec.js';
import { RAW_COLUMNS } from './raw-impression.js';

/**
 * The default feature spec: every impression column, the generator's context fields, and crosses
 * of them. 2^20 buckets. Changing it changes every model trained with it: the golden test pins it.
 */
export const defaultFeatureSpec: FeatureSpec = parseFeatureSpec({
  version: 1,
  hashBits: 20,
  hashSeed: 0,
  fields: [
    ...categoricalFields('column', RAW_COLUMNS),
    { name: 'hour_of_day', source: 'context', kind: 'categorical' },
    { name: 'user_age_days', source: 'context', kind: 'log1p', scale: 2 },
    { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 2, 3, 5, 8, 13, 21, 50, 100] },
    { name: 'site_category', source: 'context', kind: 'categorical' },
  ],
  crosses: [
    { fields: ['ad_id', 'device_type'] },
    { fields: ['placement', 'hour_of_day'] },
    { fields: ['site_category', 'country'] },
    { fields: ['ad_id', 'placement'] },
    { fields: ['ad_id', 'site_category'] },
    { fields: ['campaign_id', 'country'] },
    { fields: ['advertiser_id', 'site_category'] },
    { fields: ['device_type', 'os'] },
  ],
});
