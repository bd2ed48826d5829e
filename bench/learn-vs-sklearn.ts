/**
 * Accuracy bench: synthetic click logs from libs/clicklog (written to Postgres, read back with its reader and
 * time split), FTRL from libs/learn on the default feature spec, scored through the serialised artifact,
 * against (a) the oracle (the generator's true CTR) and (b) scikit-learn LogisticRegression (best C from a
 * grid) on the same hashed features. Also checks down-sampling w = 0.1 with re-calibration.
 *
 *   npx tsx --conditions=source bench/learn-vs-sklearn.ts [--days 7] [--per-day 150000] [--seed 11] [--cs 0.01,0.03,0.1,0.3]
 *
 * Needs DATABASE_URL (default postgres://postgres@127.0.0.1:55432/fallback_ctr) and FALLBACK_CTR_PYTHON.
 * Acceptance: holdout NE within 3% of the oracle's; holdout logloss within 0.5% of scikit-learn's best;
 * calibration of the down-sampled model within 0.95-1.05.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dropSchema, generateTraffic, splitTrainingWindow } from '@fallback-ctr/clicklog';
import {
  computeMetrics,
  type EvaluationMetrics,
  type FeaturizedBatch,
  featurizeRows,
  type TrainOptionsInput,
  toArtifactInput,
  trainOnBatch,
} from '@fallback-ctr/learn';
import { canonicalJson, createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { scoreRows, servedModel } from '../libs/learn/test/support/served.js';
import { sklearnLogisticRegression } from '../libs/learn/test/support/sklearn.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '7' },
    'per-day': { type: 'string', default: '150000' },
    seed: { type: 'string', default: '11' },
    cs: { type: 'string', default: '0.01,0.03,0.1,0.3' },
    keep: { type: 'boolean', default: false },
    grid: { type: 'boolean', default: false },
    /** Directory to keep the featurised rows in between runs (re-used when the arguments and spec match). */
    cache: { type: 'string' },
  },
});
const days = Number(values.days);
const perDay = Number(values['per-day']);
const db = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';
const schema = `learn_bench_${process.pid}`;
const spec = defaultFeatureSpec;
const featurizer = createFeaturizer(spec);

function scoreWith(trainBatch: FeaturizedBatch, holdout: FeaturizedBatch, opts: TrainOptionsInput) {
  const t0 = performance.now();
  const result = trainOnBatch(trainBatch, opts);
  const trainMs = performance.now() - t0;
  const { bytes, scorer } = servedModel(toArtifactInput(result, { featureSpec: spec }));
  return {
    metrics: computeMetrics(scoreRows(scorer, holdout), holdout.labels),
    trainMs,
    nnz: scorer.artifact.nonZeroWeights,
    bytes: bytes.length,
  };
}

const cacheKey = canonicalJson({ days, perDay, seed: values.seed, spec });
async function saveCache(dir: string, parts: Record<string, FeaturizedBatch>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, b] of Object.entries(parts)) {
    await writeFile(
      path.join(dir, `${name}.idx`),
      Buffer.from(b.indices.buffer, b.indices.byteOffset, b.indices.byteLength),
    );
    await writeFile(path.join(dir, `${name}.y`), b.labels);
    if (b.trueCtr)
      await writeFile(
        path.join(dir, `${name}.ctr`),
        Buffer.from(b.trueCtr.buffer, b.trueCtr.byteOffset, b.trueCtr.byteLength),
      );
  }
  await writeFile(path.join(dir, 'key.json'), cacheKey);
}
async function loadCache(dir: string, name: string): Promise<FeaturizedBatch> {
  const copy = (b: Buffer) => new Uint8Array(b).buffer;
  const labels = new Uint8Array(await readFile(path.join(dir, `${name}.y`)));
  const indices = new Uint32Array(copy(await readFile(path.join(dir, `${name}.idx`))));
  const trueCtr = new Float64Array(copy(await readFile(path.join(dir, `${name}.ctr`))));
  return { rows: labels.length, width: indices.length / labels.length, indices, labels, trueCtr };
}

let train: FeaturizedBatch;
let holdout: FeaturizedBatch;
const cached =
  values.cache &&
  existsSync(path.join(values.cache, 'key.json')) &&
  (await readFile(path.join(values.cache, 'key.json'), 'utf8')) === cacheKey;
if (cached && values.cache) {
  train = await loadCache(values.cache, 'train');
  holdout = await loadCache(values.cache, 'holdout');
  console.log(`loaded ${train.rows} train / ${holdout.rows} holdout featurised rows from ${values.cache}`);
} else {
  const start = new Date(Date.UTC(2026, 0, 1));
  let t = performance.now();
  const gen = await generateTraffic({
    db,
    schema,
    seed: Number(values.seed),
    days,
    impressionsPerDay: perDay,
    start,
    replace: true,
  });
  console.log(
    `generated ${gen.impressions} impressions, ${gen.clicks} clicks (mean true CTR ${gen.meanTrueCtr.toFixed(4)}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  try {
    t = performance.now();
    const split = await splitTrainingWindow({
      db,
      schema,
      from: gen.from,
      to: gen.to,
      attributionWindowMinutes: 24 * 60,
      now: new Date(gen.to.getTime() + 2 * 86_400_000),
      holdout: { fraction: 0.2 },
      includeTrueCtr: true,
      batchSize: 10_000,
    });
    train = await featurizeRows(split.train.read(), featurizer);
    holdout = await featurizeRows(split.holdout.read(), featurizer);
    console.log(
      `read + featurised ${train.rows} train / ${holdout.rows} holdout rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  } finally {
    if (!values.keep) await dropSchema({ db, schema });
  }
  if (values.cache) await saveCache(values.cache, { train, holdout });
}
if (!holdout.trueCtr) throw new Error('holdout rows carry no trueCtr');

const oracle = computeMetrics(holdout.trueCtr, holdout.labels);
// Calibration against the generator's truth (Σp / Σ true CTR): free of the holdout's click-count noise.
const trueMean = oracle.meanPrediction;
const base = { hashBits: spec.hashBits }; // FTRL defaults: α 0.1, β 1, λ1 1, λ2 1
const variants: Array<[string, TrainOptionsInput]> = [
  ['FTRL 1 pass', { ...base, passes: 1 }],
  ['FTRL 2 passes', { ...base, passes: 2 }],
  ['FTRL 3 passes', { ...base, passes: 3 }],
  ['FTRL 2 passes, w = 0.1', { ...base, passes: 2, negativeSamplingRate: 0.1, seed: 1 }],
];
if (values.grid) {
  for (const alpha of [0.03, 0.05, 0.1, 0.2]) {
    for (const l1 of [0.1, 1, 3]) {
      for (const l2 of [0.1, 1, 10]) {
        for (const passes of [1, 2, 3]) {
          const r = scoreWith(train, holdout, { ...base, alpha, l1, l2, passes });
          console.log(
            JSON.stringify({
              alpha,
              l1,
              l2,
              passes,
              logloss: r.metrics.logloss,
              neRatio: r.metrics.normalizedEntropy / oracle.normalizedEntropy,
              cal: r.metrics.calibration,
            }),
          );
        }
      }
    }
  }
}
const rows: Array<Record<string, string | number>> = [];
const fmt = (m: EvaluationMetrics) => ({
  logloss: m.logloss.toFixed(5),
  NE: m.normalizedEntropy.toFixed(4),
  'NE / oracle': (m.normalizedEntropy / oracle.normalizedEntropy).toFixed(4),
  AUC: m.auc.toFixed(4),
  calibration: m.calibration.toFixed(3),
  'Σp / Σtrue': (m.meanPrediction / trueMean).toFixed(3),
});
rows.push({ model: 'oracle (true CTR)', ...fmt(oracle), 'vs sklearn': '', 'non-zero w': '', 'train s': '' });
const ftrl: Array<[string, ReturnType<typeof scoreWith>]> = [];
for (const [name, opts] of variants) {
  const r = scoreWith(train, holdout, opts);
  ftrl.push([name, r]);
}
const tSk = performance.now();
const cs = values.cs.split(',').map(Number);
const sk = await sklearnLogisticRegression(train, holdout, featurizer.size, cs);
const skMs = performance.now() - tSk;
for (const [name, r] of ftrl) {
  rows.push({
    model: name,
    ...fmt(r.metrics),
    'vs sklearn': `${(((r.metrics.logloss - sk.best.holdout_logloss) / sk.best.holdout_logloss) * 100).toFixed(2)}%`,
    'non-zero w': r.nnz,
    'train s': (r.trainMs / 1000).toFixed(2),
  });
}
for (const r of sk.results) {
  rows.push({
    model: `sklearn LR lbfgs C=${r.C}${r === sk.best || r.C === sk.best.C ? ' (best)' : ''}`,
    logloss: r.holdout_logloss.toFixed(5),
    NE: '',
    'NE / oracle': '',
    AUC: r.holdout_auc.toFixed(4),
    calibration: '',
    'Σp / Σtrue': '',
    'vs sklearn': `${(((r.holdout_logloss - sk.best.holdout_logloss) / sk.best.holdout_logloss) * 100).toFixed(2)}%`,
    'non-zero w': '',
    'train s': r.fit_seconds.toFixed(1),
  });
}
console.log(
  `holdout: ${holdout.rows} rows, base rate ${oracle.baseRate.toFixed(4)}; oracle NE ${oracle.normalizedEntropy.toFixed(4)}; sklearn grid ${(skMs / 1000).toFixed(0)} s`,
);
console.table(rows);
const main = ftrl[1]?.[1];
const sampled = ftrl[3]?.[1];
if (main && sampled) {
  const neOk = main.metrics.normalizedEntropy / oracle.normalizedEntropy <= 1.03;
  const llOk = main.metrics.logloss <= sk.best.holdout_logloss * 1.005;
  const calOk = sampled.metrics.calibration >= 0.95 && sampled.metrics.calibration <= 1.05;
  const calTruth = sampled.metrics.meanPrediction / trueMean;
  console.log(
    `acceptance (FTRL 2 passes): NE within 3% of oracle: ${neOk ? 'PASS' : 'FAIL'}; logloss within 0.5% of sklearn best: ${llOk ? 'PASS' : 'FAIL'}; w = 0.1 calibration (Σp/Σclicks ${sampled.metrics.calibration.toFixed(3)}) in [0.95, 1.05]: ${calOk ? 'PASS' : 'FAIL'} (the oracle's own Σp/Σclicks on this holdout: ${oracle.calibration.toFixed(3)}; Σp/Σtrue: ${calTruth.toFixed(3)})`,
  );
}
