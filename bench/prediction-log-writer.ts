/**
 * The prediction log's writer alone, in this process (no HTTP server, no other process in the figure,
 * so it holds up on a loaded machine): the CPU that `record()` costs per logged row on the request path,
 * and the CPU one COPY costs the process (the writer's own connection; PostgreSQL's work is not in it)
 * at 100, 1,000 and 10,000 rows per COPY — what PREDICTION_LOG_BATCH_SIZE trades. Rows as the inference
 * API logs them: 100-impression requests, ids of 25 ASCII characters, every impression sampled.
 *
 * Run: npx tsx --conditions=source bench/prediction-log-writer.ts   (needs PostgreSQL: bash scripts/services.sh up)
 * Env: DATABASE_URL (default: scripts/services.sh env), BENCH_ROWS rows per cell (400,000), BENCH_ROUNDS (3).
 */
import { loadavg } from 'node:os';
import { createPredictionLogWriter, migratePredictionLog } from '@fallback-ctr/prediction-log';
import pg from 'pg';
import { serviceEnv } from './support/trainer-bench-world.js';

const rowsPerCell = Number(process.env.BENCH_ROWS ?? 400_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const impressions = Array.from({ length: 100 }, (_, i) => ({ id: `r0-100-${i}-0123456789abcdef`.slice(0, 25) }));
const scores = Float64Array.from(impressions, (_, i) => (i + 0.5) / 100);
const model = { name: 'fallback-ctr', version: '7', role: 'served' as const };
const cpuMicros = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** One cell: `rowsPerCopy` rows recorded, then written by one COPY (flush), until `rowsPerCell` rows. */
async function cell(db: string, schema: string, rowsPerCopy: number): Promise<{ recordUs: number; copyUs: number }> {
  const writer = createPredictionLogWriter({
    databaseUrl: db,
    schema,
    sampleRate: 1,
    maxQueue: 50_000,
    batchSize: 50_000,
    flushIntervalMs: 3_600_000,
    writeTimeoutMs: 30_000,
  });
  // The connection is opened by a first COPY outside the figures.
  writer.record(model, impressions.slice(0, 1), scores);
  await writer.flush();
  const copies = Math.max(20, Math.round(rowsPerCell / rowsPerCopy));
  let recordUs = 0;
  let copyUs = 0;
  for (let c = 0; c < copies; c++) {
    let since = process.cpuUsage();
    for (let r = 0; r < rowsPerCopy / impressions.length; r++) writer.record(model, impressions, scores);
    recordUs += cpuMicros(since);
    since = process.cpuUsage();
    await writer.flush();
    copyUs += cpuMicros(since);
  }
  const { dropped } = writer.stats();
  await writer.close();
  if (Object.values(dropped).some((n) => n > 0)) throw new Error(`rows dropped: ${JSON.stringify(dropped)}`);
  return { recordUs: recordUs / (copies * rowsPerCopy), copyUs: copyUs / copies };
}

async function main(): Promise<void> {
  const db = serviceEnv().DATABASE_URL;
  const schema = `bench_plogw_${process.pid}`;
  await migratePredictionLog({ db, schema });
  const loadBefore = loadavg()[0]?.toFixed(1);
  const sizes = [100, 1_000, 10_000];
  const got = new Map(sizes.map((size) => [size, [] as { recordUs: number; copyUs: number }[]]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const size of sizes) got.get(size)?.push(await cell(db, schema, size));
    }
  } finally {
    const pool = new pg.Pool({ connectionString: db, max: 1 });
    await pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await pool.end();
  }
  console.log(
    `\nPrediction-log writer in one process, ${rounds} rounds of ~${rowsPerCell.toLocaleString('en')} rows per cell (median shown); load average before ${loadBefore}, after ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log(
    '| rows per COPY | record() CPU µs per row | one COPY: CPU µs | COPY CPU µs per row | every round (COPY µs) |',
  );
  console.log('|---:|---:|---:|---:|---|');
  for (const size of sizes) {
    const cells = got.get(size) ?? [];
    const copy = median(cells.map((c) => c.copyUs));
    console.log(
      `| ${size.toLocaleString('en')} | ${median(cells.map((c) => c.recordUs)).toFixed(3)} | ${copy.toFixed(0)} | ${(copy / size).toFixed(3)} | ${cells.map((c) => c.copyUs.toFixed(0)).join(' ')} |`,
    );
  }
}

await main();
