/**
 * Wall time, CPU time and peak RSS of a full trainer `run` (load → train → evaluate → gate → publish
 * to the real MLflow; rollout mode none) on synthetic click logs of 1M and 4M impressions.
 *
 *   npx tsx --conditions=source bench/trainer-run.ts [--sizes 1000000,4000000] [--keep] [--negative-sampling 0.1]
 *
 * With --negative-sampling each size also runs with TRAIN_NEGATIVE_SAMPLING_RATE at that rate (the
 * database leaves the other non-clicks out), right after the run on every row.
 *
 * Needs DATABASE_URL and MLFLOW_TRACKING_URI (`bash scripts/services.sh env`). Each size gets its
 * own schema (trainer_bench_<n>, reused when it already holds the right number of rows) and model
 * name; the run executes in a child process so its CPU time and peak RSS are its own, and the
 * PostgreSQL cluster's CPU over the run is read from /proc.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { dropSchema } from '@fallback-ctr/clicklog';
import { postgresCpuSeconds } from './support/postgres-cpu.js';
import { DAYS, ensureBenchTraffic, forgetModel, runTrainerChild, serviceEnv } from './support/trainer-bench-world.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000000,4000000' },
    keep: { type: 'boolean', default: false },
    'negative-sampling': { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const env = serviceEnv();
const db = env.DATABASE_URL;

const rows: string[][] = [];
for (const size of sizes) {
  const { schema, generateMs } = await ensureBenchTraffic(db, size);
  const rates = values['negative-sampling'] === undefined ? [1] : [1, Number(values['negative-sampling'])];
  for (const rate of rates) {
    const modelName = `trainer-bench-${size}-${Date.now()}`;
    const pgCpuBefore = await postgresCpuSeconds(db);
    const extraEnv: Record<string, string> = rate < 1 ? { TRAIN_NEGATIVE_SAMPLING_RATE: String(rate) } : {};
    const result = await runTrainerChild(env, schema, modelName, extraEnv);
    const pgCpu = (await postgresCpuSeconds(db)) - pgCpuBefore;
    const p = result.phases;
    const trainEnd = p['training pass'] ?? Number.NaN;
    const split = p['training window split'] ?? Number.NaN;
    rows.push([
      size.toLocaleString('en-US'),
      rate < 1 ? String(rate) : '1 (all)',
      generateMs ? `${(generateMs / 1000).toFixed(1)} s` : 'reused',
      `${(result.wallMs / 1000).toFixed(1)} s`,
      `${(result.cpuMs / 1000).toFixed(1)} s`,
      `${pgCpu.toFixed(1)} s`,
      `${((trainEnd - split) / 1000).toFixed(1)} s`,
      `${Math.round((size * (1 - 1 / DAYS)) / ((trainEnd - split) / 1000)).toLocaleString('en-US')}`,
      `${(((p['holdout evaluated'] ?? 0) - trainEnd) / 1000).toFixed(1)} s`,
      `${result.maxRssMb} MB`,
      result.holdoutLogloss === null ? '–' : result.holdoutLogloss.toFixed(5),
      String(result.code),
    ]);
    await forgetModel(env.MLFLOW_TRACKING_URI, modelName);
  }
  if (!values.keep) await dropSchema({ db, schema });
}

const header = [
  'impressions',
  'negatives kept',
  'generate',
  'run wall',
  'trainer CPU',
  'PostgreSQL CPU',
  'train pass',
  'train rows/s',
  'evaluate',
  'peak RSS',
  'holdout logloss',
  'exit',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(
  `('train rows/s' counts the window's training rows, sampled or not; Node ${process.version}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}: on a busy machine the CPU columns are the steadier figures)`,
);
