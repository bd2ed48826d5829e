/**
 * Benchmark of `clicklog import`: the same synthetic impressions (libs/clicklog's generator) written
 * as CSV, JSONL and Parquet, imported into PostgreSQL; each import runs in a child process so its peak
 * RSS is its own. Baselines in the same run: COPY of the already-formatted lines into a bare staging
 * table (the database's ceiling for this row shape) and `writeImpressions` (COPY into the indexed table).
 *
 *   npx tsx --conditions=source bench/clicklog-import.ts [--rows 1000000] [--formats csv,jsonl,parquet] [--keep]
 *
 * Target (issue 12): COPY writes ≥ 200k rows/s into PostgreSQL on this machine. Other engineers share
 * the 2 cores: the load average is printed beside every figure; compare the ratios.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
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
  /** Read + parse + map + COPY into the staging table. */
  stageMs: number;
  /** INSERT … ON CONFLICT into the indexed table, clicks, commit. */
  mergeMs: number;
  totalMs: number;
  peakRssMb: number;
  load: number;
}

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

/** Child mode: one import, timed by phase. */
async function importChild(schema: string, file: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const began = performance.now();
  let mergeAt = 0;
  const result = await importLog({
    db: pool,
    schema,
    file,
    mapping: MAPPING,
    onProgress: (p) => {
      if (p.phase === 'merge') mergeAt = performance.now();
    },
  });
  const end = performance.now();
  await pool.end();
  const report: ChildReport = {
    rows: result.rows,
    imported: result.imported,
    skipped: result.skippedDuplicates,
    stageMs: mergeAt - began,
    mergeMs: end - mergeAt,
    totalMs: end - began,
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

async function copyCeiling(schema: string, n: number): Promise<{ ms: number; load: number }> {
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
  await client.query('BEGIN');
  await client.query(
    `CREATE TEMP TABLE import_stage (LIKE ${schema}.impressions INCLUDING DEFAULTS, clicked_at timestamptz) ON COMMIT DROP`,
  );
  const began = performance.now();
  await copyLines(client, `COPY import_stage (${STAGE_COLUMNS.join(', ')}) FROM STDIN`, chunks);
  const ms = performance.now() - began;
  await client.query('ROLLBACK');
  await client.end();
  return { ms, load: load1() };
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

    const table: string[] = ['| step | rows/s | time | peak RSS | load avg |', '|---|---|---|---|---|'];
    const rate = (count: number, ms: number) => `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}`;
    const ceiling = await copyCeiling(await fresh('ceiling'), n);
    table.push(
      `| baseline: COPY of ready lines into the staging table | ${rate(n, ceiling.ms)} | ${(ceiling.ms / 1000).toFixed(1)} s | | ${ceiling.load} |`,
    );
    const baselineSchema = await fresh('baseline');
    const began = performance.now();
    await writeImpressions({
      db: pool,
      schema: baselineSchema,
      rows: (function* () {
        for (const r of rows(n)) yield { id: r.id, servedAt: r.servedAt, impression: r.impression };
      })(),
    });
    const baseMs = performance.now() - began;
    table.push(
      `| baseline: writeImpressions (generate + COPY into the indexed table) | ${rate(n, baseMs)} | ${(baseMs / 1000).toFixed(1)} s | | ${load1()} |`,
    );

    const formats = (values.formats ?? '').split(',') as ('csv' | 'jsonl' | 'parquet')[];
    for (const format of formats) {
      const schema = await fresh(format);
      const r = importInChild(schema, files[format]);
      table.push(
        `| import ${format}: read + parse + map + COPY into staging | ${rate(r.rows, r.stageMs)} | ${(r.stageMs / 1000).toFixed(1)} s | | |`,
        `| import ${format}: merge into the indexed table + commit | ${rate(r.imported, r.mergeMs)} | ${(r.mergeMs / 1000).toFixed(1)} s | | |`,
        `| **import ${format}: whole** (${r.imported.toLocaleString('en-US')} written) | ${rate(r.rows, r.totalMs)} | ${(r.totalMs / 1000).toFixed(1)} s | ${r.peakRssMb} MB | ${r.load} |`,
      );
      if (format === 'csv') {
        const again = importInChild(schema, files.csv);
        table.push(
          `| re-import csv (${again.skipped.toLocaleString('en-US')} skipped, ${again.imported} written) | ${rate(again.rows, again.totalMs)} | ${(again.totalMs / 1000).toFixed(1)} s | ${again.peakRssMb} MB | ${again.load} |`,
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
