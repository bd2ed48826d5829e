import type { FeatureSpecInput } from '@fallback-ctr/model';
import { pypiSample } from './pypi-sample-cache.js';
import type { SampleWindow } from './real-sample-env.js';

/** The Open Bandit Dataset sample shipped in the obp wheel (CC BY 4.0, ZOZO Technologies). */
export const OBP_WHEEL = 'obp==0.4.1';
export type OpenBanditPolicy = 'random' | 'bts';

/**
 * Paths of the two 10k-row samples (uniform-random and Bernoulli-Thompson-sampling logging
 * policies), fetched once from PyPI with pip and cached.
 */
export async function openBanditSample(): Promise<Record<OpenBanditPolicy, string>> {
  const files = await pypiSample({
    cacheName: 'obp-0.4.1',
    pipArgs: ['--only-binary=:all:', '--python-version', '3.10', OBP_WHEEL],
    members: {
      'random.csv': 'obp/dataset/obd/random/all/all.csv',
      'bts.csv': 'obp/dataset/obd/bts/all/all.csv',
    },
  });
  return { random: files['random.csv'], bts: files['bts.csv'] };
}

/** The week of the samples: training 2019-11-24..28, the last 48 hours the holdout. */
export const OPEN_BANDIT_WINDOW: SampleWindow = { end: '2019-12-01T00:00:00.000Z', hours: 168, holdoutHours: 48 };

/**
 * Import mapping of the samples: no id column (ids `<prefix>:<line>`), a click flag on the row,
 * the recommended item as the ad and its position as the slot; the logging policy's propensity
 * score is dropped (it describes the policy, not the user); the rest goes to context.
 */
export function openBanditMapping(policy: OpenBanditPolicy) {
  return {
    idPrefix: `obd-${policy}`,
    timestampColumn: 'timestamp',
    labelColumn: 'click',
    columns: { ad_id: 'item_id', slot_id: 'position' },
    ignore: ['_c0', 'propensity_score'],
  };
}

/**
 * A feature spec naming the sample's fields: the item, its position and their cross. The four
 * hashed user features are left out: on this sample they predict the holdout worse than the base
 * rate (scikit-learn, one-hot, best C: holdout AUC 0.36 with them, 0.56 without).
 */
export const openBanditFeatureSpec: FeatureSpecInput = {
  version: 1,
  hashBits: 16,
  fields: [
    { name: 'ad_id', source: 'column', kind: 'categorical' },
    { name: 'slot_id', source: 'column', kind: 'categorical' },
  ],
  crosses: [{ fields: ['ad_id', 'slot_id'] }],
};
