/**
 * The trainer next to the pipeline a Python user would write for the same job on the same data,
 * side by side in one run: psql \copy to CSV + pandas + scikit-learn SGDClassifier(log_loss) on
 * FeatureHasher output, and Vowpal Wabbit from PyPI when it is installed in the Python used.
 * Same week, same time split (the last HOLDOUT_HOURS are the holdout), same label rule.
 *
 *   npx tsx --conditions=source bench/trainer-vs-python.ts [--rows 1000000]
 *
 * Needs the services (scripts/services.sh) and a Python with pandas and scikit-learn
 * (FALLBACK_CTR_PYTHON, default .venv/bin/python); for the VW row: `.venv/bin/pip install vowpalwabbit==9.11.9`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ATTRIBUTION_MINUTES,
  END,
  ensureBenchTraffic,
  forgetModel,
  HOLDOUT_HOURS,
  runTrainerChild,
  START,
  serviceEnv,
} from './support/trainer-bench-world.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const size = Number(values.rows);
const env = serviceEnv();
const python = env.FALLBACK_CTR_PYTHON ?? fileURLToPath(new URL('../.venv/bin/python', import.meta.url));
const script = fileURLToPath(new URL('./python/trainer_pipeline.py', import.meta.url));
const { schema } = await ensureBenchTraffic(env.DATABASE_URL, size);
const cut = new Date(END.getTime() - HOLDOUT_HOURS * 3_600_000);

interface Row {
  pipeline: string;
  wallS: number;
  peakRssMb: string;
  logloss: number | null;
  note: string;
}
const table: Row[] = [];

const modelName = `trainer-vs-python-${Date.now()}`;
const ours = await runTrainerChild(env, schema, modelName);
await forgetModel(env.MLFLOW_TRACKING_URI, modelName);
table.push({
  pipeline: 'fallback-ctr trainer run (FTRL, COPY reader, + MLflow publish)',
  wallS: ours.wallMs / 1000,
  peakRssMb: String(ours.maxRssMb),
  logloss: ours.holdoutLogloss,
  note: `exit ${ours.code}`,
});

const hasVw = spawnSync(python, ['-c', 'import vowpalwabbit'], { stdio: 'ignore' }).status === 0;
for (const tool of hasVw ? ['sklearn', 'vw'] : ['sklearn']) {
  const out = execFileSync(
    python,
    [
      script,
      '--tool',
      tool,
      '--database-url',
      env.DATABASE_URL,
      '--schema',
      schema,
      '--start',
      START.toISOString(),
      '--cut',
      cut.toISOString(),
      '--end',
      END.toISOString(),
      '--attribution-seconds',
      String(ATTRIBUTION_MINUTES * 60),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
    wallSeconds: number;
    peakRssMb: number;
    psqlPeakRssMb: number;
    holdoutLogloss: number;
    steps: Record<string, number>;
  };
  table.push({
    pipeline:
      tool === 'sklearn' ? 'psql \\copy + pandas + SGDClassifier(log_loss)' : 'psql \\copy + pandas + Vowpal Wabbit',
    wallS: r.wallSeconds,
    peakRssMb: `${r.peakRssMb} (psql ${r.psqlPeakRssMb})`,
    logloss: r.holdoutLogloss,
    note: Object.entries(r.steps)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', '),
  });
}
if (!hasVw) console.error('Vowpal Wabbit is not installed in that Python: its row is left out');

console.log(
  `\n${size.toLocaleString('en')} impressions, holdout = last ${HOLDOUT_HOURS} h; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}\n`,
);
console.log('| pipeline | wall s | wall vs trainer | peak RSS MB | holdout logloss | steps |');
console.log('|---|---|---|---|---|---|');
for (const r of table) {
  console.log(
    `| ${r.pipeline} | ${r.wallS.toFixed(1)} | ${(r.wallS / table[0]!.wallS).toFixed(2)}× | ${r.peakRssMb} | ` +
      `${r.logloss === null ? 'n/a' : r.logloss.toFixed(5)} | ${r.note} |`,
  );
}
