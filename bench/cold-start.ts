/**
 * Cold-start bench: synthetic traffic with new ads, campaigns and advertisers every day (libs/clicklog
 * generator, churn), trained without and with rare tokens (a vocabulary of values seen ≥ k times in the
 * training days, plus rareRate of rare-token rows drawn per impression or per value), scored through the
 * serialised artifact on the last day (holdout).
 *
 *   npm run bench:cold-start -- [--days 7] [--per-day 80000] [--new-ads 600] [--fresh 0.3] [--base-ctr 0.03] [--seeds 7,8,9]
 *
 * The defaults are the world of services/trainer/test/cold-start.test.ts (about 320 clicks on never-seen
 * ads in the holdout, so Σp/Σy is known to about ±6 %).
 *
 * Prints the three acceptance figures of issue 12 part 4 per setting: Σp/Σy over holdout impressions of
 * ads never seen in training (target 0.8–1.25), the score of an impression whose every value is unknown
 * relative to the holdout base rate (target 0.5–2), and NE on the rest of the holdout (target: no worse
 * than without rare tokens by more than 0.2 %).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { syntheticImpressions } from '@fallback-ctr/clicklog';
import { coldStartReport } from '../services/trainer/test/support/cold-start.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    'per-day': { type: 'string', default: '80000' },
    'new-ads': { type: 'string', default: '600' },
    fresh: { type: 'string', default: '0.3' },
    'base-ctr': { type: 'string', default: '0.03' },
    seeds: { type: 'string', default: '7,8,9' },
  },
});
const days = Number(values.days);
console.log(
  `${days} days of ${values['per-day']} impressions, ${values['new-ads']} new ads a day, fresh traffic ${values.fresh}, base CTR ${values['base-ctr']}; holdout = the last day\n`,
);
console.log(
  '| seed | setting | never-seen ads Σp/Σy (rows, clicks) | Σp/Σ true CTR | all-unknown / base rate | NE rest of holdout | ΔNE vs no rare tokens | load (1 min) |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const seed of values.seeds.split(',').map(Number)) {
  const rows = Array.from(
    syntheticImpressions({
      seed,
      days,
      impressionsPerDay: Number(values['per-day']),
      baseCtr: Number(values['base-ctr']),
      start: new Date('2026-11-01T00:00:00Z'),
      churn: { adsPerDay: Number(values['new-ads']), freshTraffic: Number(values.fresh) },
    }),
  );
  let baseline: number | undefined;
  for (const setting of [
    { label: 'no rare tokens', minCount: 0, rareRate: 0 },
    { label: 'k = 5, rareRate 0.02 drawn per impression (before)', minCount: 5, rareRate: 0.02 },
    { label: 'k = 5, rareRate 0.02 drawn per value (trainer default)', minCount: 5, rareRate: 0.02, perValue: true },
    { label: 'k = 5, rareRate 0.05 drawn per value', minCount: 5, rareRate: 0.05, perValue: true },
    { label: 'k = 20, rareRate 0.02 drawn per value', minCount: 20, rareRate: 0.02, perValue: true },
  ]) {
    const r = await coldStartReport(rows, days - 1, setting);
    baseline ??= r.restNe;
    console.log(
      `| ${seed} | ${setting.label} | ${r.newAdCalibration.toFixed(3)} (${r.newAdRows}, ${r.newAdClicks}) | ${r.newAdTruthRatio.toFixed(3)} | ${r.allUnknownRatio.toFixed(2)} | ${r.restNe.toFixed(5)} | ${((r.restNe / baseline - 1) * 100).toFixed(2)} % | ${os.loadavg()[0]?.toFixed(1)} |`,
    );
  }
}
