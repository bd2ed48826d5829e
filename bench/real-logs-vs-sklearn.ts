/**
 * Quality on real public click logs: the user's path (`clicklog import` → `trainer run`, trainer
 * defaults plus a FEATURE_SPEC naming the data's fields) against scikit-learn LogisticRegression
 * (best C of a small grid, chosen on the holdout itself: the most favourable setting for it) on the
 * same time split and the same hashed features.
 *
 *   npx tsx --conditions=source bench/real-logs-vs-sklearn.ts [--holdout-hours 48] [--cs 0.01,0.03,0.1,0.3,1,3] [--keep]
 *
 * Source: the Open Bandit Dataset sample in the PyPI wheel obp==0.4.1 (CC BY 4.0; both logging
 * policies, 2 × 10k impressions of a week, ~0.4 % CTR), fetched once with pip and cached.
 * Needs DATABASE_URL, MLFLOW_TRACKING_URI and FALLBACK_CTR_PYTHON (scripts/services.sh env).
 * Target (issue 12): trainer holdout logloss within 1 % of scikit-learn's.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { dropSchema, importLog, migrate } from '@fallback-ctr/clicklog';
import { featurizeRows } from '@fallback-ctr/learn';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import { createFeaturizer, parseFeatureSpec } from '@fallback-ctr/model';
import { createLogger } from '@fallback-ctr/runtime';
import pg from 'pg';
import { sklearnLogisticRegression } from '../libs/learn/test/support/sklearn.js';
import { loadWindow, windowBounds } from '../services/trainer/src/pipeline/load-window.js';
import {
  type OpenBanditPolicy,
  openBanditFeatureSpec,
  openBanditMapping,
  openBanditSample,
} from '../test/real-data/open-bandit-sample.js';

const { values } = parseArgs({
  options: {
    'holdout-hours': { type: 'string', default: '48' },
    cs: { type: 'string', default: '0.01,0.03,0.1,0.3,1,3' },
    keep: { type: 'boolean', default: false },
  },
});
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';
const mlflowUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000';
const holdoutHours = Number(values['holdout-hours']);
const cs = (values.cs ?? '').split(',').map(Number);
const WINDOW_END = '2019-12-01T00:00:00Z';
const WINDOW_HOURS = 7 * 24;
const ATTRIBUTION_MINUTES = 60;
const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;

interface TrainerLine {
  msg?: string;
  runId?: string;
  outcome?: string;
}

/** `trainer run` as a user starts it; returns the outcome line and the run's MLflow metrics. */
async function trainerRun(schema: string, modelName: string) {
  const bin = fileURLToPath(new URL('../services/trainer/src/bin.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const began = performance.now();
  const { stdout } = await promisify(execFile)(tsx, ['--conditions=source', bin, 'run'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      MLFLOW_TRACKING_URI: mlflowUri,
      CLICKLOG_SCHEMA: schema,
      MODEL_NAME: modelName,
      TRAIN_WINDOW_END: WINDOW_END,
      TRAIN_WINDOW_HOURS: String(WINDOW_HOURS),
      HOLDOUT_HOURS: String(holdoutHours),
      ATTRIBUTION_WINDOW_MINUTES: String(ATTRIBUTION_MINUTES),
      FEATURE_SPEC: JSON.stringify(openBanditFeatureSpec),
      LOG_LEVEL: 'info',
    },
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - began) / 1000;
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TrainerLine);
  const outcome = lines.findLast((l) => l.outcome !== undefined);
  if (!outcome?.runId) throw new Error(`trainer run ended without a run: ${JSON.stringify(outcome)}`);
  const run = await createMlflowClient({ trackingUri: mlflowUri }).getRun(outcome.runId);
  const { metrics, params } = run.data;
  return { outcome: outcome.outcome ?? '?', runId: outcome.runId, metrics, params, seconds };
}

async function main(): Promise<void> {
  const schema = `bench_real_${randomBytes(3).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const logger = createLogger({ name: 'bench', level: 'warn' });
  try {
    console.log(`# real logs vs scikit-learn — Open Bandit Dataset sample (obp 0.4.1), load average ${load1()}`);
    const sample = await openBanditSample();
    await migrate({ db: pool, schema, logger });
    for (const policy of ['random', 'bts'] as OpenBanditPolicy[]) {
      const r = await importLog({ db: pool, schema, file: sample[policy], mapping: openBanditMapping(policy) });
      console.log(`imported ${policy}: ${r.imported} impressions, ${r.clicks.imported} clicks, ${r.badRows} bad rows`);
    }

    const trainer = await trainerRun(schema, `bench-real-${schema}`);

    const spec = parseFeatureSpec(openBanditFeatureSpec);
    const featurizer = createFeaturizer(spec);
    const bounds = windowBounds(
      {
        trainWindowHours: WINDOW_HOURS,
        holdoutHours,
        attributionWindowMinutes: ATTRIBUTION_MINUTES,
        end: new Date(WINDOW_END),
      },
      () => new Date(WINDOW_END),
    );
    const split = await loadWindow(
      {
        clicklogSchema: schema,
        window: {
          trainWindowHours: WINDOW_HOURS,
          holdoutHours,
          attributionWindowMinutes: ATTRIBUTION_MINUTES,
          end: new Date(WINDOW_END),
        },
      },
      pool,
      logger,
      bounds,
    );
    const train = await featurizeRows(split.train.read(), featurizer);
    const holdout = await featurizeRows(split.holdout.read(), featurizer);
    const sk = await sklearnLogisticRegression(train, holdout, 2 ** spec.hashBits, cs);

    const clicks = (labels: Uint8Array) => labels.reduce((a, b) => a + b, 0);
    const trainerLogloss = trainer.metrics.holdout_logloss ?? Number.NaN;
    const ratio = trainerLogloss / sk.best.holdout_logloss;
    console.log(
      `split: train ${train.labels.length} rows / ${clicks(train.labels)} clicks, holdout (last ${holdoutHours} h) ${holdout.labels.length} rows / ${clicks(holdout.labels)} clicks`,
    );
    console.log('\n| model | holdout logloss | AUC | NE | calibration | note |');
    console.log('|---|---|---|---|---|---|');
    const m = trainer.metrics;
    const ftrl = Object.keys(trainer.params)
      .filter((k) => /^(ftrl|train)\./.test(k))
      .sort()
      .map((k) => `${k} ${trainer.params[k]}`)
      .join(', ');
    console.log(
      `| \`trainer run\` (defaults + FEATURE_SPEC) | ${trainerLogloss.toFixed(5)} | ${m.holdout_auc?.toFixed(3)} | ${m.holdout_ne?.toFixed(3)} | ${m.holdout_calibration?.toFixed(3)} | gate ${trainer.outcome}; ${ftrl}; ${trainer.seconds.toFixed(0)} s |`,
    );
    for (const r of sk.results) {
      console.log(
        `| scikit-learn LR, C = ${r.C}${r === sk.best ? ' (best)' : ''} | ${r.holdout_logloss.toFixed(5)} | ${r.holdout_auc.toFixed(3)} | | | |`,
      );
    }
    console.log(
      `\ntrainer / scikit-learn best logloss = ${ratio.toFixed(4)} (${((ratio - 1) * 100).toFixed(2)} %; target within 1 %); load average ${load1()}`,
    );
  } finally {
    if (!values.keep) await dropSchema({ db: pool, schema });
    await pool.end();
  }
}

await main();
