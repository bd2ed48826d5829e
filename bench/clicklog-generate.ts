/**
 * Benchmark of @fallback-ctr/clicklog: generate N synthetic impressions with COPY, stream them back
 * through the training-set reader (in a child process, to report its own peak RSS), and measure
 * whether partitioning impressions by day pays.
 *
 *   npx tsx --conditions=source bench/clicklog-generate.ts [--impressions 1000000] [--days 10] [--keep]
 *
 * Targets (issue 4): generate 1,000,000 impressions in < 60 s; stream them back with peak RSS < 300 MB.
 * Other engineers share the 2 cores: numbers vary with their load (the load average is printed).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dropSchema, generateTraffic, readTrainingRows } from '../libs/clicklog/src/index.js';

const DAY_MS = 86_400_000;
const start = new Date('2026-01-01T00:00:00Z');
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';

interface StreamReport {
  rows: number;
  positives: number;
  ms: number;
  baselineRssMb: number;
  peakRssMb: number;
  rssAtMb: number[];
}

/** Child mode: stream a window and report rows, time and memory. */
async function streamChild(schema: string, from: Date, to: Date, includeTrueCtr: boolean): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const began = performance.now();
  const rssAtMb: number[] = [];
  let rows = 0;
  let positives = 0;
  let checksum = 0;
  for await (const row of readTrainingRows({
    db: pool,
    schema,
    from,
    to,
    attributionWindowMinutes: 30,
    now: new Date(to.getTime() + DAY_MS),
    includeTrueCtr,
  })) {
    rows++;
    positives += row.label;
    checksum += row.impression.ad_id?.length ?? 0;
    if (rows % 200_000 === 0) rssAtMb.push(Math.round(process.memoryUsage().rss / 2 ** 20));
  }
  await pool.end();
  const report: StreamReport = {
    rows,
    positives: positives + (checksum < 0 ? 1 : 0),
    ms: performance.now() - began,
    baselineRssMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    rssAtMb,
  };
  process.stdout.write(JSON.stringify(report));
}

function streamInChild(schema: string, from: Date, to: Date, includeTrueCtr: boolean): StreamReport {
  const self = fileURLToPath(import.meta.url);
  const args = [
    '--import',
    'tsx',
    '--conditions=source',
    self,
    '--child',
    schema,
    from.toISOString(),
    to.toISOString(),
  ];
  if (includeTrueCtr) args.push('--truth');
  const out = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, DATABASE_URL: url } });
  if (out.status !== 0) throw new Error(`stream child failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as StreamReport;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await fn();
  return [value, performance.now() - t];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      impressions: { type: 'string', default: '1000000' },
      days: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
      truth: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    args: process.argv.slice(2),
  });
  if (values.child) {
    const [schema, from, to] = process.argv.slice(3);
    return streamChild(schema!, new Date(from!), new Date(to!), values.truth);
  }

  const total = Number(values.impressions);
  const days = Number(values.days);
  const perDay = Math.round(total / days);
  const tag = randomBytes(3).toString('hex');
  const plain = `clicklog_bench_${tag}`;
  const parted = `clicklog_bench_${tag}_p`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const end = new Date(start.getTime() + days * DAY_MS);
  const lastDay = new Date(end.getTime() - DAY_MS);
  const rowsOut: [string, string, string][] = [];
  const row = (what: string, value: string, note = '') => {
    rowsOut.push([what, value, note]);
    console.error(`  ${what}: ${value} ${note}`);
  };
  const loadBefore = loadavg()[0]!.toFixed(1);

  try {
    // 1. Generation.
    const gen = await generateTraffic({ db: pool, schema: plain, seed: 2026, days, impressionsPerDay: perDay, start });
    row(
      `generate ${gen.impressions.toLocaleString('en')} impressions (COPY, 1 tx)`,
      `${(gen.elapsedMs / 1000).toFixed(1)} s`,
      `target < 60 s; impressions ${(gen.phasesMs.impressions / 1000).toFixed(1)} s, clicks ${(gen.phasesMs.clicks / 1000).toFixed(1)} s, truth ${(gen.phasesMs.truth / 1000).toFixed(1)} s, analyze ${(gen.phasesMs.analyze / 1000).toFixed(1)} s; ${Math.round(gen.impressions / (gen.elapsedMs / 1000)).toLocaleString('en')} rows/s`,
    );
    row(
      'clicks / mean true CTR / observed CTR',
      `${gen.clicks}`,
      `${(gen.meanTrueCtr * 100).toFixed(2)}% / ${(gen.observedCtr * 100).toFixed(2)}%`,
    );

    // 2. Streaming back, in a fresh process so its peak RSS is the reader's alone.
    for (const truth of [false, true]) {
      const s = streamInChild(plain, start, end, truth);
      row(
        `stream all rows back${truth ? ' + trueCtr' : ''}`,
        `${(s.ms / 1000).toFixed(1)} s`,
        `${s.rows.toLocaleString('en')} rows, ${Math.round(s.rows / (s.ms / 1000)).toLocaleString('en')} rows/s`,
      );
      row(
        `  peak RSS of the reading process${truth ? ' + trueCtr' : ''}`,
        `${Math.round(s.peakRssMb)} MB`,
        `target < 300 MB; at start ${Math.round(s.baselineRssMb)} MB; every 200k rows: ${s.rssAtMb.join(', ')} MB`,
      );
    }

    // 3. Partition by day: same rows in a day-partitioned impressions table.
    await pool.query(`CREATE SCHEMA ${parted}`);
    const partitions = Array.from({ length: days + 1 }, (_, d) => {
      const a = new Date(start.getTime() + d * DAY_MS).toISOString();
      const b = new Date(start.getTime() + (d + 1) * DAY_MS).toISOString();
      return `CREATE TABLE ${parted}.impressions_d${d} PARTITION OF ${parted}.impressions FOR VALUES FROM ('${a}') TO ('${b}')`;
    });
    await pool.query(`
      CREATE TABLE ${parted}.impressions (LIKE ${plain}.impressions INCLUDING DEFAULTS) PARTITION BY RANGE (served_at);
      ${partitions.join(';\n')};
      ALTER TABLE ${parted}.impressions ADD PRIMARY KEY (id, served_at);
      CREATE INDEX ON ${parted}.impressions (served_at, id);
      CREATE VIEW ${parted}.clicks AS SELECT * FROM ${plain}.clicks;
      CREATE VIEW ${parted}.truth AS SELECT * FROM ${plain}.truth;
      CREATE TABLE ${plain}.impressions_copy (LIKE ${plain}.impressions INCLUDING ALL);`);
    const [, loadPlain] = await timed(() =>
      pool.query(`INSERT INTO ${plain}.impressions_copy SELECT * FROM ${plain}.impressions`),
    );
    const [, loadParted] = await timed(() =>
      pool.query(`INSERT INTO ${parted}.impressions SELECT * FROM ${plain}.impressions`),
    );
    await pool.query(`ANALYZE ${parted}.impressions; ANALYZE ${plain}.impressions_copy`);
    row(
      'load 1M rows (INSERT…SELECT): plain / day-partitioned',
      `${(loadPlain / 1000).toFixed(1)} s / ${(loadParted / 1000).toFixed(1)} s`,
    );

    const dayPlain = streamInChild(plain, lastDay, end, false);
    const dayParted = streamInChild(parted, lastDay, end, false);
    row(
      'read last day (reader): plain / day-partitioned',
      `${(dayPlain.ms / 1000).toFixed(2)} s / ${(dayParted.ms / 1000).toFixed(2)} s`,
      `${dayPlain.rows.toLocaleString('en')} rows each`,
    );
    const allParted = streamInChild(parted, start, end, false);
    row(
      'read all days (reader): day-partitioned',
      `${(allParted.ms / 1000).toFixed(1)} s`,
      `${allParted.rows.toLocaleString('en')} rows`,
    );

    const [, deletePlain] = await timed(() =>
      pool.query(`DELETE FROM ${plain}.impressions_copy WHERE served_at < $1`, [new Date(start.getTime() + DAY_MS)]),
    );
    const [, dropParted] = await timed(() => pool.query(`DROP TABLE ${parted}.impressions_d0`));
    row(
      'retention, drop the oldest day: DELETE / DROP PARTITION',
      `${(deletePlain / 1000).toFixed(2)} s / ${(dropParted / 1000).toFixed(3)} s`,
      'DELETE also leaves dead tuples for VACUUM',
    );
  } finally {
    if (!values.keep) {
      await pool.query(`DROP SCHEMA IF EXISTS ${parted} CASCADE`);
      await dropSchema({ db: pool, schema: plain });
    }
    await pool.end();
  }

  const width = [0, 0, 0];
  const all: [string, string, string][] = [['measure', 'value', 'notes'], ...rowsOut];
  for (const r of all) for (let i = 0; i < 3; i++) width[i] = Math.max(width[i]!, r[i]!.length);
  const line = (r: [string, string, string]) => `| ${r.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  console.log(
    `\nclicklog benchmark (load average before ${loadBefore}, after ${loadavg()[0]!.toFixed(1)}, node ${process.version})`,
  );
  console.log(line(all[0]!));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rowsOut) console.log(line(r));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
