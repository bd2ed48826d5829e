/**
 * Benchmark of `clicklog import`: the same synthetic impressions (libs/clicklog's generator) written
 * as CSV, JSONL and Parquet, imported into PostgreSQL; each import runs in a child process so its peak
 * RSS is its own. Baselines in the same run: COPY of the already-formatted lines into a bare staging
 * table (the database's ceiling for this row shape: no parsing in Node, no index, no WAL) and
 * `writeImpressions` (COPY into the indexed table). Every import is shown as its ratio to that
 * ceiling, and with the CPU seconds Node and the PostgreSQL backend spent on it (read from /proc, so
 * they hold when other work shares the cores and wall-clock rates do not).
 *
 *   npx tsx --conditions=source bench/clicklog-import.ts [--rows 1000000] [--formats csv,jsonl,parquet] [--keep]
 *
 * Target (issue 12): COPY writes ≥ 200k rows/s into PostgreSQL on this machine. Other engineers share
 * the 2 cores: the load average is printed beside every figure; compare the ratios.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parquetWriteBuffer } from 'hyparquet-writer';
import pg from 'pg';
import { copyLines } from '../libs/clicklog/src/copy-text.js';
import { STAGE_COLUMNS } from '../libs/clicklog/src/import/record-mapper.js';
import { importLog, migrate, syntheticImpressions, writeImpressions } from '../libs/clicklog/src/index.js';
import { impressionLine } from '../libs/clicklog/src/write-log.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:55432/fallback_ctr';
const start = new Date('2026-01-01T00:00:00Z');
const HEADER = [
  'id',
  'served_at',
  'slot',
  'placement',
  'ad',
  'campaign',
  'advertiser',
  'device',
  'os',
  'country',
  'hour_of_day',
  'user_age_days',
  'page_views',
  'site_category',
  'clicked',
];
const MAPPING = {
  idColumn: 'id',
  timestampColumn: 'served_at',
  timestampFormat: 'unix-ms',
  labelColumn: 'clicked',
  columns: {
    slot_id: 'slot',
    placement: 'placement',
    ad_id: 'ad',
    campaign_id: 'campaign',
    advertiser_id: 'advertiser',
    device_type: 'device',
    os: 'os',
    country: 'country',
  },
};

interface ChildReport {
  rows: number;
  imported: number;
  skipped: number;
  totalMs: number;
  /** CPU seconds of the importing Node process (user + system) during the import. */
  nodeCpuS: number;
  /** CPU seconds of its PostgreSQL backend during the import (undefined when /proc cannot tell). */
  pgCpuS: number | undefined;
  peakRssMb: number;
  load: number;
}

/** CPU seconds a PostgreSQL backend has used so far, from /proc (the server runs on this machine). */
function backendCpuS(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

async function backendPid(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return (rows[0] as { pid: number }).pid;
}

const cpuSpent = (before: number | undefined, after: number | undefined) =>
  before === undefined || after === undefined ? undefined : after - before;

const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;

function* rows(n: number) {
  const days = Math.max(1, Math.ceil(n / 200_000));
  let i = 0;
  for (const r of syntheticImpressions({ seed: 'import-bench', days, impressionsPerDay: Math.ceil(n / days), start })) {
    if (i++ >= n) return;
    yield r;
  }
}

function cells(r: ReturnType<typeof rows> extends Generator<infer T> ? T : never): (string | number)[] {
  const m = r.impression;
  const c = m.context ?? {};
  return [
    r.id,
    r.servedAt.getTime(),
    m.slot_id ?? '',
    m.placement ?? '',
    m.ad_id ?? '',
    m.campaign_id ?? '',
    m.advertiser_id ?? '',
    m.device_type ?? '',
    m.os ?? '',
    m.country ?? '',
    Number(c.hour_of_day ?? 0),
    Number(c.user_age_days ?? 0),
    Number(c.page_views ?? 0),
    String(c.site_category ?? ''),
    r.clickedAt === null ? 0 : 1,
  ];
}

async function writeFiles(dir: string, n: number): Promise<Record<'csv' | 'jsonl' | 'parquet', string>> {
  const csv = createWriteStream(join(dir, 'impressions.csv'));
  const jsonl = createWriteStream(join(dir, 'impressions.jsonl'));
  const columns: (string | number)[][] = HEADER.map(() => []);
  csv.write(`${HEADER.join(',')}\n`);
  for (const r of rows(n)) {
    const values = cells(r);
    const okCsv = csv.write(`${values.join(',')}\n`);
    const okJson = jsonl.write(`${JSON.stringify(Object.fromEntries(HEADER.map((h, i) => [h, values[i]])))}\n`);
    values.forEach((v, i) => {
      columns[i]?.push(v);
    });
    if (!okCsv) await new Promise<void>((resolve) => csv.once('drain', () => resolve()));
    if (!okJson) await new Promise<void>((resolve) => jsonl.once('drain', () => resolve()));
  }
  await Promise.all([new Promise<void>((r) => csv.end(() => r())), new Promise<void>((r) => jsonl.end(() => r()))]);
  const numeric = new Set(['served_at', 'hour_of_day', 'user_age_days', 'page_views', 'clicked']);
  const buffer = parquetWriteBuffer({
    columnData: HEADER.map((name, i) => ({
      name,
      data: name === 'served_at' ? (columns[i] as number[]).map((v) => BigInt(v)) : (columns[i] as (string | number)[]),
      type: name === 'served_at' ? ('INT64' as const) : numeric.has(name) ? ('INT32' as const) : ('STRING' as const),
    })),
    rowGroupSize: 100_000,
  });
  await writeFile(join(dir, 'impressions.parquet'), Buffer.from(buffer));
  return {
    csv: join(dir, 'impressions.csv'),
    jsonl: join(dir, 'impressions.jsonl'),
    parquet: join(dir, 'impressions.parquet'),
  };
}

/** Child mode: one import, timed, with its own and its backend's CPU. */
async function importChild(schema: string, file: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const probe = await pool.connect();
  const pid = await backendPid(probe);
  probe.release(); // the pool's one connection: the import leases this same backend
  const pgBefore = backendCpuS(pid);
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  const result = await importLog({ db: pool, schema, file, mapping: MAPPING });
  const end = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  const pgCpuS = cpuSpent(pgBefore, backendCpuS(pid));
  await pool.end();
  const report: ChildReport = {
    rows: result.rows,
    imported: result.imported,
    skipped: result.skippedDuplicates,
    totalMs: end - began,
    nodeCpuS: (cpu.user + cpu.system) / 1e6,
    pgCpuS,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    load: load1(),
  };
  process.stdout.write(JSON.stringify(report));
}

function importInChild(schema: string, file: string): ChildReport {
  const self = fileURLToPath(import.meta.url);
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', self, '--child', schema, file], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url },
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) throw new Error(`import child failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as ChildReport;
}

async function copyCeiling(
  schema: string,
  n: number,
): Promise<{ ms: number; pgCpuS: number | undefined; load: number }> {
  const chunks: string[] = [];
  let chunk = '';
  for (const r of rows(n)) {
    chunk += `${impressionLine(r.id, r.servedAt.getTime(), r.impression).slice(0, -1)}\t\\N\n`;
    if (chunk.length >= 1 << 16) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  chunks.push(chunk);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const pid = await backendPid(client);
  await client.query('BEGIN');
  await client.query(
    `CREATE TEMP TABLE import_stage (LIKE ${schema}.impressions INCLUDING DEFAULTS, clicked_at timestamptz) ON COMMIT DROP`,
  );
  const pgBefore = backendCpuS(pid);
  const began = performance.now();
  await copyLines(client, `COPY import_stage (${STAGE_COLUMNS.join(', ')}) FROM STDIN`, chunks);
  const ms = performance.now() - began;
  const pgCpuS = cpuSpent(pgBefore, backendCpuS(pid));
  await client.query('ROLLBACK');
  await client.end();
  return { ms, pgCpuS, load: load1() };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rows: { type: 'string', default: '1000000' },
      formats: { type: 'string', default: 'csv,jsonl,parquet' },
      keep: { type: 'boolean' },
      child: { type: 'boolean' },
    },
  });
  if (values.child) return importChild(positionals[0] as string, positionals[1] as string);
  const n = Number(values.rows);
  const dir = await mkdtemp(join(tmpdir(), 'clicklog-import-bench-'));
  const schemas: string[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const fresh = async (tag: string) => {
    const schema = `bench_import_${tag}_${randomBytes(3).toString('hex')}`;
    await migrate({ db: pool, schema });
    schemas.push(schema);
    return schema;
  };
  try {
    console.log(`# clicklog import benchmark: ${n.toLocaleString('en-US')} rows, load average at start ${load1()}`);
    const files = await writeFiles(dir, n);
    const sizes = await Promise.all(Object.values(files).map(async (f) => (await stat(f)).size));
    console.log(
      `files: ${Object.keys(files)
        .map((k, i) => `${k} ${Math.round((sizes[i] ?? 0) / 2 ** 20)} MB`)
        .join(', ')}`,
    );

    const table: string[] = [
      '| step | rows/s | × ceiling | time | Node CPU | PG backend CPU | peak RSS | load avg |',
      '|---|---|---|---|---|---|---|---|',
    ];
    const perSecond = (count: number, ms: number) => count / (ms / 1000);
    const rate = (count: number, ms: number) => Math.round(perSecond(count, ms)).toLocaleString('en-US');
    const seconds = (s: number | undefined) => (s === undefined ? '—' : `${s.toFixed(1)} s`);
    const ceiling = await copyCeiling(await fresh('ceiling'), n);
    const ceilingRate = perSecond(n, ceiling.ms);
    const ratio = (count: number, ms: number) => `${(perSecond(count, ms) / ceilingRate).toFixed(2)}×`;
    table.push(
      `| ceiling: COPY of ready lines into the bare staging table | ${rate(n, ceiling.ms)} | 1.00× | ${seconds(ceiling.ms / 1000)} | | ${seconds(ceiling.pgCpuS)} | | ${ceiling.load} |`,
    );
    const baselineSchema = await fresh('baseline');
    const baselinePool = new pg.Pool({ connectionString: url, max: 1 });
    const probe = await baselinePool.connect();
    const baselinePid = await backendPid(probe);
    probe.release();
    const baselineBefore = backendCpuS(baselinePid);
    const began = performance.now();
    await writeImpressions({
      db: baselinePool,
      schema: baselineSchema,
      rows: (function* () {
        for (const r of rows(n)) yield { id: r.id, servedAt: r.servedAt, impression: r.impression };
      })(),
    });
    const baseMs = performance.now() - began;
    const baselineCpu = cpuSpent(baselineBefore, backendCpuS(baselinePid));
    await baselinePool.end();
    table.push(
      `| baseline: writeImpressions (generate + COPY into the indexed table, no dedup) | ${rate(n, baseMs)} | ${ratio(n, baseMs)} | ${seconds(baseMs / 1000)} | | ${seconds(baselineCpu)} | | ${load1()} |`,
    );

    const formats = (values.formats ?? '').split(',') as ('csv' | 'jsonl' | 'parquet')[];
    const row = (label: string, r: ChildReport) =>
      `| ${label} | ${rate(r.rows, r.totalMs)} | ${ratio(r.rows, r.totalMs)} | ${seconds(r.totalMs / 1000)} | ${seconds(r.nodeCpuS)} | ${seconds(r.pgCpuS)} | ${r.peakRssMb} MB | ${r.load} |`;
    for (const format of formats) {
      const schema = await fresh(format);
      const r = importInChild(schema, files[format]);
      table.push(row(`**import ${format}** (${r.imported.toLocaleString('en-US')} written)`, r));
      if (format === 'csv') {
        const again = importInChild(schema, files.csv);
        table.push(
          row(`re-import csv (${again.skipped.toLocaleString('en-US')} skipped, ${again.imported} written)`, again),
        );
      }
    }
    console.log(table.join('\n'));
  } finally {
    if (!values.keep) {
      for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await rm(dir, { recursive: true, force: true });
    }
    await pool.end();
  }
}

await main();
