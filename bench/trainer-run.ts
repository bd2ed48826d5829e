/**
 * Wall time, CPU time and peak RSS of a full trainer `run` (load → train → evaluate → gate → publish
 * to the real MLflow; rollout mode none) on synthetic click logs of 1M and 4M impressions.
 *
 *   npx tsx --conditions=source bench/trainer-run.ts [--sizes 1000000,4000000] [--keep]
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
  options: { sizes: { type: 'string', default: '1000000,4000000' }, keep: { type: 'boolean', default: false } },
});
const sizes = values.sizes.split(',').map(Number);
const env = serviceEnv();
const db = env.DATABASE_URL;

const rows: string[][] = [];
for (const size of sizes) {
  const { schema, generateMs } = await ensureBenchTraffic(db, size);
  const modelName = `trainer-bench-${size}-${Date.now()}`;
  const pgCpuBefore = await postgresCpuSeconds(db);
  const result = await runTrainerChild(env, schema, modelName);
  const pgCpu = (await postgresCpuSeconds(db)) - pgCpuBefore;
  const p = result.phases;
  const trainEnd = p['training pass'] ?? Number.NaN;
  const split = p['training window split'] ?? Number.NaN;
  rows.push([
    size.toLocaleString('en-US'),
    generateMs ? `${(generateMs / 1000).toFixed(1)} s` : 'reused',
    `${(result.wallMs / 1000).toFixed(1)} s`,
    `${(result.cpuMs / 1000).toFixed(1)} s`,
    `${pgCpu.toFixed(1)} s`,
    `${((trainEnd - split) / 1000).toFixed(1)} s`,
    `${Math.round((size * (1 - 1 / DAYS)) / ((trainEnd - split) / 1000)).toLocaleString('en-US')}`,
    `${(((p['holdout evaluated'] ?? 0) - trainEnd) / 1000).toFixed(1)} s`,
    `${result.maxRssMb} MB`,
    String(result.code),
  ]);
  await forgetModel(env.MLFLOW_TRACKING_URI, modelName);
  if (!values.keep) await dropSchema({ db, schema });
}

const header = [
  'impressions',
  'generate',
  'run wall',
  'trainer CPU',
  'PostgreSQL CPU',
  'train pass',
  'train rows/s',
  'evaluate',
  'peak RSS',
  'exit',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(
  `(Node ${process.version}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}: on a busy machine the CPU columns are the steadier figures)`,
);
