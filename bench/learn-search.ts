/**
 * Hyper-parameter search bench: are the FTRL defaults and the search (libs/learn searchHyperparameters,
 * successive halving, refit) good on real and on rare-click data, against scikit-learn?
 *
 *   npx tsx --conditions=source bench/learn-search.ts [--obd DIR] [--rows 300000] [--initial-bias base-rate|0]
 *
 * Data sets, each split by time 80 / 20 (train / holdout):
 *   - synthetic 1.5 % and 0.2 % CTR (libs/learn's in-process generator, seeds 21 and 22);
 *   - the Open Bandit Dataset sample (`pip download --no-deps obp==0.4.1`; DIR holds
 *     obp/dataset/obd/{random,bts}/all/all.csv: real e-commerce clicks, CC BY 4.0), both policies'
 *     logs merged in time order, fields item_id, position, user_feature_0..3 and two crosses.
 * Prints, per data set: holdout logloss / NE / calibration of FTRL with the defaults, with the issue's
 * hand-tuned setting (α 0.5, λ1 0, 3 passes), with the search's choice (and its cost: wall time and
 * row updates relative to one default fit on the same in-memory rows), and scikit-learn
 * LogisticRegression's best C. `--initial-bias` starts every fit's bias at the training rows' base rate
 * (the trainer's way, the default) or at 0 (before it). Needs FALLBACK_CTR_PYTHON (a Python with scikit-learn).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  computeMetrics,
  type FeaturizedBatch,
  FTRL_DEFAULTS,
  featurizeRows,
  type LabeledImpression,
  searchHyperparameters,
  sliceRows,
  type TrainOptionsInput,
  type TrainResult,
  trainOnBatch,
} from '@fallback-ctr/learn';
import {
  categoricalFields,
  createFeaturizer,
  defaultFeatureSpec,
  type FeatureSpec,
  parseFeatureSpec,
  sigmoid,
} from '@fallback-ctr/model';
import { sklearnLogisticRegression } from '../libs/learn/test/support/sklearn.js';
import { syntheticRows } from '../libs/learn/test/support/synthetic.js';

const { values } = parseArgs({
  options: {
    obd: { type: 'string', default: '/tmp/learn-data' },
    rows: { type: 'string', default: '300000' },
    cs: { type: 'string', default: '0.01,0.03,0.1,0.3,1,3' },
    'initial-bias': { type: 'string', default: 'base-rate' },
  },
});
const initialBias = values['initial-bias'] === 'base-rate' ? 'base-rate' : Number(values['initial-bias']);

const OBD_SPEC = parseFeatureSpec({
  version: 1,
  hashBits: 18,
  fields: categoricalFields('context', [
    'item_id',
    'position',
    'user_feature_0',
    'user_feature_1',
    'user_feature_2',
    'user_feature_3',
  ]),
  crosses: [{ fields: ['item_id', 'position'] }, { fields: ['item_id', 'user_feature_0'] }],
});

function obdRows(dir: string): LabeledImpression[] {
  const out: { t: number; row: LabeledImpression }[] = [];
  for (const policy of ['random', 'bts']) {
    const file = path.join(dir, 'obp/dataset/obd', policy, 'all/all.csv');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const header = (lines[0] as string).split(',');
    const col = (name: string) => header.indexOf(name);
    const [ts, item, pos, click] = ['timestamp', 'item_id', 'position', 'click'].map(col) as number[];
    const uf = [0, 1, 2, 3].map((k) => col(`user_feature_${k}`));
    for (const line of lines.slice(1)) {
      const v = line.split(',');
      const context: Record<string, string> = {
        item_id: v[item as number] as string,
        position: v[pos as number] as string,
      };
      uf.forEach((c, k) => {
        context[`user_feature_${k}`] = v[c] as string;
      });
      out.push({
        t: Date.parse(v[ts as number] as string),
        row: { label: Number(v[click as number]), impression: { context } },
      });
    }
  }
  out.sort((a, b) => a.t - b.t);
  return out.map((o) => o.row);
}

interface Scored {
  logloss: number;
  ne: number;
  calibration: number;
  auc: number;
}

function score(result: TrainResult, holdout: FeaturizedBatch): Scored {
  const p = new Float64Array(holdout.rows);
  const offset = Math.log(result.options.negativeSamplingRate);
  for (let r = 0; r < holdout.rows; r++) {
    p[r] = sigmoid(result.ftrl.margin(holdout.indices, r * holdout.width, holdout.width) + offset);
  }
  const m = computeMetrics(p, holdout.labels, { reliabilityBins: 1 });
  return { logloss: m.logloss, ne: m.normalizedEntropy, calibration: m.calibration, auc: m.auc };
}

const fmt = (x: number, d = 5) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

async function runDataSet(name: string, rows: LabeledImpression[], spec: FeatureSpec): Promise<void> {
  const batch = await featurizeRows(rows, createFeaturizer(spec));
  const cut = Math.floor(batch.rows * 0.8);
  const train = sliceRows(batch, 0, cut);
  const holdout = sliceRows(batch, cut, batch.rows);
  const clicks = train.labels.reduce((s, y) => s + y, 0);
  const base: TrainOptionsInput = { hashBits: spec.hashBits, initialBias };
  const t0 = performance.now();
  const defaults = trainOnBatch(train, base);
  const fitMs = performance.now() - t0;
  const table: [string, Scored, string][] = [];
  table.push([
    `defaults (α ${FTRL_DEFAULTS.alpha}, λ1 ${FTRL_DEFAULTS.l1}, λ2 ${FTRL_DEFAULTS.l2}, 1 pass)`,
    score(defaults, holdout),
    '1.0×',
  ]);
  table.push([
    'α 0.5, λ1 0, 3 passes (issue)',
    score(trainOnBatch(train, { ...base, alpha: 0.5, l1: 0, passes: 3 }), holdout),
    '',
  ]);
  const t1 = performance.now();
  const search = await searchHyperparameters(train, base);
  const chosen = trainOnBatch(train, { ...base, ...search.best });
  const searchMs = performance.now() - t1;
  const b = search.best;
  table.push([
    `search → α ${b.alpha}, λ1 ${b.l1}, λ2 ${b.l2}, ${b.passes} pass(es)`,
    score(chosen, holdout),
    `${(searchMs / fitMs).toFixed(1)}× wall (${search.trials.length} trials, ${search.rungs} rungs, ${search.costInFits.toFixed(1)} + ${b.passes} fits of row updates)`,
  ]);
  const cs = (values.cs as string).split(',').map(Number);
  const sk = await sklearnLogisticRegression(train, holdout, 2 ** spec.hashBits, cs);
  const skLine = `sklearn LR lbfgs best C = ${sk.best.C}`;
  console.log(
    `\n### ${name}: ${train.rows} train rows (${clicks} clicks, CTR ${(clicks / train.rows).toFixed(4)}), ${holdout.rows} holdout rows; bias starts at ${initialBias}; load ${os.loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log('| model | holdout logloss | vs sklearn best | NE | calibration | AUC | cost vs one default fit |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [label, s, cost] of table) {
    const rel = ((s.logloss / sk.best.holdout_logloss - 1) * 100).toFixed(2);
    console.log(
      `| ${label} | ${fmt(s.logloss)} | ${rel} % | ${fmt(s.ne, 4)} | ${fmt(s.calibration, 3)} | ${fmt(s.auc, 4)} | ${cost} |`,
    );
  }
  console.log(`| ${skLine} | ${fmt(sk.best.holdout_logloss)} | 0 | | | ${fmt(sk.best.holdout_auc, 4)} | |`);
}

const n = Number(values.rows);
await runDataSet(
  'synthetic (intercept −4.5)',
  Array.from(syntheticRows({ rows: n, seed: 21, intercept: -4.5 })),
  defaultFeatureSpec,
);
await runDataSet(
  'synthetic, rare clicks (intercept −6.8)',
  Array.from(syntheticRows({ rows: n, seed: 22, intercept: -6.8 })),
  defaultFeatureSpec,
);
const obd = values.obd as string;
if (existsSync(path.join(obd, 'obp/dataset/obd/random/all/all.csv'))) {
  await runDataSet('Open Bandit Dataset sample (random + bts)', obdRows(obd), OBD_SPEC);
} else {
  console.log(`\n(Open Bandit Dataset not found under ${obd}; skipped)`);
}
