/**
 * Cold-start bench: synthetic traffic with new ads, campaigns and advertisers every day (libs/clicklog
 * generator, churn), trained without and with rare tokens (a vocabulary of values seen ≥ k times in the
 * training days, plus rareRate), scored through the serialised artifact on the last day (holdout).
 *
 *   npx tsx --conditions=source bench/cold-start.ts [--days 7] [--per-day 60000] [--new-ads 150] [--fresh 0.1] [--seed 7]
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
    'per-day': { type: 'string', default: '60000' },
    'new-ads': { type: 'string', default: '150' },
    fresh: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '7' },
  },
});
const days = Number(values.days);
const rows = Array.from(
  syntheticImpressions({
    seed: Number(values.seed),
    days,
    impressionsPerDay: Number(values['per-day']),
    start: new Date('2026-11-01T00:00:00Z'),
    churn: { adsPerDay: Number(values['new-ads']), freshTraffic: Number(values.fresh) },
  }),
);
console.log(
  `load ${os.loadavg()[0]?.toFixed(1)}; ${rows.length} impressions over ${days} days, holdout = the last day\n`,
);
console.log(
  '| setting | never-seen ads Σp/Σy (n, clicks) | Σp/Σ true CTR | all-unknown / base rate | NE rest of holdout | ΔNE vs no rare tokens |',
);
console.log('|---|---|---|---|---|---|');
let baseline: number | undefined;
for (const setting of [
  { label: 'no rare tokens (before)', minCount: 0, rareRate: 0 },
  { label: 'k = 5, rareRate 0.02 (trainer default)', minCount: 5, rareRate: 0.02 },
  { label: 'k = 5, rareRate 0.05', minCount: 5, rareRate: 0.05 },
  { label: 'k = 20, rareRate 0.02', minCount: 20, rareRate: 0.02 },
]) {
  const r = await coldStartReport(rows, days - 1, setting);
  baseline ??= r.restNe;
  console.log(
    `| ${setting.label} | ${r.newAdCalibration.toFixed(3)} (${r.newAdRows}, ${r.newAdClicks}) | ${r.newAdTruthRatio.toFixed(3)} | ${r.allUnknownRatio.toFixed(2)} | ${r.restNe.toFixed(5)} | ${((r.restNe / baseline - 1) * 100).toFixed(2)} % |`,
  );
}
