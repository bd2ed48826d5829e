/**
 * What the hyper-parameter search costs a trainer `run`: the same run (rollout mode none) on the bench
 * week, once with every FTRL_* / TRAIN_PASSES set (a single fit, no search) and once with the defaults
 * (search on), alternating, each in a child process. Prints wall and CPU time, their ratio to the
 * single fit of the same round, the trainer's peak RSS (the search holds the training part in memory, up
 * to TRAIN_SEARCH_MAX_ROWS rows) and the holdout logloss of each. CPU is the trainer's, and the whole
 * run's: the trainer's plus what PostgreSQL (reads) and the MLflow server (runs, nested trial runs,
 * artifacts) spent meanwhile (both must be this machine's, started by scripts/services.sh).
 *
 *   npm run bench:trainer-search -- [--size 200000] [--rounds 2] [--keep]
 *
 * Needs DATABASE_URL and MLFLOW_TRACKING_URI (`bash scripts/services.sh env`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dropSchema } from '@fallback-ctr/clicklog';
import { postgresCpuSeconds } from './support/postgres-cpu.js';
import { treeCpuSeconds } from './support/process-tree-cpu.js';
import { ensureBenchTraffic, forgetModel, runTrainerChild, serviceEnv } from './support/trainer-bench-world.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const env = serviceEnv();
const db = env.DATABASE_URL;
const { schema } = await ensureBenchTraffic(db, size);
const mlflowPidFile = `${process.env.FALLBACK_CTR_DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url))}/mlflow.pid`;
/** CPU seconds PostgreSQL and the MLflow server (process tree of scripts/services.sh's pid file) have used so far. */
async function servicesCpuSeconds(): Promise<number> {
  const mlflowPid = existsSync(mlflowPidFile) ? Number(readFileSync(mlflowPidFile, 'utf8').trim()) : 0;
  return (await postgresCpuSeconds(db)) + (mlflowPid > 0 ? treeCpuSeconds(mlflowPid) : 0);
}
const pinned = { FTRL_ALPHA: '0.1', FTRL_L1: '1', FTRL_L2: '1', TRAIN_PASSES: '1' };

const rows: string[][] = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  const runs: [string, Record<string, string>][] = [
    ['single fit (all pinned)', pinned],
    ['search (defaults)', {}],
  ];
  let base: { wallMs: number; cpuMs: number; wholeMs: number; maxRssMb: number } | undefined;
  for (const [label, extra] of runs) {
    const modelName = `trainer-search-bench-${round}-${Date.now()}`;
    const load = loadavg()[0]!.toFixed(1);
    const servicesBefore = await servicesCpuSeconds();
    const child = await runTrainerChild(env, schema, modelName, extra);
    const r = { ...child, wholeMs: child.cpuMs + ((await servicesCpuSeconds()) - servicesBefore) * 1000 };
    base ??= r;
    rows.push([
      String(round),
      label,
      `${(r.wallMs / 1000).toFixed(1)} s`,
      `${(r.wallMs / base.wallMs).toFixed(2)}×`,
      `${(r.cpuMs / 1000).toFixed(1)} s`,
      `${(r.cpuMs / base.cpuMs).toFixed(2)}×`,
      `${(r.wholeMs / 1000).toFixed(1)} s`,
      `${(r.wholeMs / base.wholeMs).toFixed(2)}×`,
      `${r.maxRssMb.toFixed(0)} MB`,
      `${r.maxRssMb - base.maxRssMb >= 0 ? '+' : ''}${(r.maxRssMb - base.maxRssMb).toFixed(0)} MB`,
      r.holdoutLogloss === null ? '–' : r.holdoutLogloss.toFixed(5),
      load,
      String(r.code),
    ]);
    await forgetModel(env.MLFLOW_TRACKING_URI, modelName);
  }
}
if (!values.keep) await dropSchema({ db, schema });

const header = [
  'round',
  'run',
  'wall',
  'wall ÷ single fit',
  'trainer CPU',
  'CPU ÷ single fit',
  'CPU with PostgreSQL + MLflow',
  'whole ÷ single fit',
  'peak RSS',
  'RSS over single fit',
  'holdout logloss',
  'load avg (1 min) at start',
  'exit',
];
console.log(`trainer run on ${size.toLocaleString('en-US')} impressions (a week; last day = holdout)\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
