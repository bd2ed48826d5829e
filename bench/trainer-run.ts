/**
 * Wall time and peak RSS of a full trainer `run` (load → train → evaluate → gate → publish to the
 * real MLflow; rollout mode none) on synthetic click logs of 1M and 4M impressions.
 *
 *   npx tsx --conditions=source bench/trainer-run.ts [--sizes 1000000,4000000] [--keep]
 *
 * Needs DATABASE_URL and MLFLOW_TRACKING_URI (`bash scripts/services.sh env`). Each size gets its
 * own schema (trainer_bench_<n>, reused when it already holds the right number of rows unless
 * regenerated) and model name; the run executes in a child process so its peak RSS is its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropSchema, generateTraffic } from '@fallback-ctr/clicklog';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import pg from 'pg';
import { postgresCpuSeconds } from './support/postgres-cpu.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000000,4000000' }, keep: { type: 'boolean', default: false } },
});
const sizes = values.sizes.split(',').map(Number);
const env = { ...process.env };
if (!env.DATABASE_URL || !env.MLFLOW_TRACKING_URI) {
  const out = execFileSync('bash', [fileURLToPath(new URL('../scripts/services.sh', import.meta.url)), 'env'], {
    encoding: 'utf8',
  });
  for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
}
const db = env.DATABASE_URL!;
const DAYS = 7;
const START = new Date('2026-02-01T00:00:00.000Z');
const END = new Date(START.getTime() + DAYS * 86_400_000);

async function rowCount(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.impressions`);
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return 0;
  } finally {
    await client.end();
  }
}

const rows: string[][] = [];
for (const size of sizes) {
  const schema = `trainer_bench_${size}`;
  const perDay = Math.round(size / DAYS);
  let genMs = 0;
  if ((await rowCount(schema)) !== perDay * DAYS) {
    const t = Date.now();
    await generateTraffic({ db, schema, replace: true, seed: 5, days: DAYS, impressionsPerDay: perDay, start: START });
    genMs = Date.now() - t;
  }
  const modelName = `trainer-bench-${size}-${Date.now()}`;
  const pgCpuBefore = await postgresCpuSeconds(db);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', fileURLToPath(new URL('./trainer-run-child.ts', import.meta.url))],
    {
      env: {
        ...env,
        CLICKLOG_SCHEMA: schema,
        MODEL_NAME: modelName,
        TRAIN_WINDOW_HOURS: String(DAYS * 24),
        HOLDOUT_HOURS: '24',
        TRAIN_WINDOW_END: END.toISOString(),
        ROLLOUT_MODE: 'none',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c) => {
    out += String(c);
  });
  await once(child, 'exit');
  const pgCpu = (await postgresCpuSeconds(db)) - pgCpuBefore;
  const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
    code: number;
    wallMs: number;
    maxRssMb: number;
    cpuMs: number;
    phases: Record<string, number>;
  };
  const p = result.phases;
  const trainEnd = p['training pass'] ?? Number.NaN;
  const split = p['training window split'] ?? Number.NaN;
  rows.push([
    size.toLocaleString('en-US'),
    genMs ? `${(genMs / 1000).toFixed(1)} s` : 'reused',
    `${(result.wallMs / 1000).toFixed(1)} s`,
    `${(result.cpuMs / 1000).toFixed(1)} s`,
    `${pgCpu.toFixed(1)} s`,
    `${((trainEnd - split) / 1000).toFixed(1)} s`,
    `${Math.round((size * (1 - 1 / DAYS)) / ((trainEnd - split) / 1000)).toLocaleString('en-US')}`,
    `${(((p['holdout evaluated'] ?? 0) - trainEnd) / 1000).toFixed(1)} s`,
    `${result.maxRssMb} MB`,
    String(result.code),
  ]);
  const mlflow = createMlflowClient({ trackingUri: env.MLFLOW_TRACKING_URI! });
  await mlflow.deleteRegisteredModel(modelName).catch(() => undefined);
  const exp = await mlflow.getExperimentByName(modelName).catch(() => undefined);
  if (exp) await mlflow.deleteExperiment(exp.experimentId).catch(() => undefined);
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
