/**
 * Reader throughput: rows/s (wall) and rows per CPU-second of this process for the training-row
 * reader over COPY and over the server-side cursor (pg's row parser), on the same window in the
 * same process, plus the same read with featurisation (what the trainer's first pass costs); COPY both
 * as row objects (the row iterator) and as the column batches the trainer featurises from.
 *
 *   npx tsx --conditions=source bench/clicklog-read.ts [--rows 1000000] [--rounds 2]
 *
 * Needs DATABASE_URL (`bash scripts/services.sh env`); generates schema trainer_bench_<rows> once, as bench/trainer-run.ts does.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { readTrainingRows } from '@fallback-ctr/clicklog';
import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import pg from 'pg';
import { postgresCpuSeconds } from './support/postgres-cpu.js';
import { END, ensureBenchTraffic, START, serviceEnv } from './support/trainer-bench-world.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '2' } },
});
const size = Number(values.rows);
const rounds = Number(values.rounds);
const url = serviceEnv().DATABASE_URL;
const { schema } = await ensureBenchTraffic(url, size);
const pool = new pg.Pool({ connectionString: url, max: 2 });

const featurizer = createFeaturizer(defaultFeatureSpec);
const indices = new Uint32Array(featurizer.maxIndices);

interface Measure {
  rows: number;
  wallMs: number;
  cpuMs: number;
  pgCpuMs: number;
}
const hashes = new Int32Array(featurizer.fieldCount);

async function measure(transport: 'copy' | 'cursor', featurize: boolean, byColumns: boolean): Promise<Measure> {
  const pg0 = await postgresCpuSeconds(url);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let rows = 0;
  let sink = 0;
  const stream = readTrainingRows({
    db: pool,
    schema,
    from: START,
    to: END,
    now: new Date(END.getTime() + 86_400_000),
    attributionWindowMinutes: 1_440,
    transport,
    batchSize: 5_000,
  });
  if (byColumns) {
    for await (const batch of stream.batches()) {
      rows += batch.length;
      for (let r = 0; r < batch.length; r++) {
        sink += batch.labels[r] as number;
        if (featurize) {
          featurizer.hashColumnsRow(batch, r, hashes, 0);
          sink += featurizer.indicesFromHashes(hashes, 0, indices);
        }
      }
    }
  } else {
    for await (const row of stream) {
      rows++;
      sink += row.label;
      if (featurize) sink += featurizer.featurize(row.impression, indices);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const pgCpuMs = ((await postgresCpuSeconds(url)) - pg0) * 1000;
  if (sink < 0) console.log(sink);
  return { rows, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, pgCpuMs };
}

const cases = [
  ['cursor (pg row parser)', 'cursor', false, false],
  ['copy, rows as objects', 'copy', false, false],
  ['copy, column batches', 'copy', false, true],
  ['cursor + featurise', 'cursor', true, false],
  ['copy + featurise, rows as objects', 'copy', true, false],
  ['copy + featurise, column batches', 'copy', true, true],
] as const;
const best = new Map<string, Measure>();
for (let round = 0; round < rounds; round++) {
  for (const [name, transport, featurize, byColumns] of cases) {
    const m = await measure(transport, featurize, byColumns);
    const prev = best.get(name);
    if (!prev || m.cpuMs < prev.cpuMs) best.set(name, m);
  }
}
await pool.end();
const base = best.get(cases[0][0])!;
console.log(
  `\nreader, ${size.toLocaleString('en')} rows, best of ${rounds} rounds, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}\n`,
);
console.log(
  '| reader | wall s | rows/s (wall) | Node CPU s | rows per Node CPU-s | Node CPU vs cursor | PostgreSQL CPU s |',
);
console.log('|---|---|---|---|---|---|---|');
for (const [name] of cases) {
  const m = best.get(name)!;
  console.log(
    `| ${name} | ${(m.wallMs / 1000).toFixed(2)} | ${Math.round((m.rows * 1000) / m.wallMs).toLocaleString('en')} | ` +
      `${(m.cpuMs / 1000).toFixed(2)} | ${Math.round((m.rows * 1000) / m.cpuMs).toLocaleString('en')} | ${(m.cpuMs / base.cpuMs).toFixed(2)}× | ${(m.pgCpuMs / 1000).toFixed(2)} |`,
  );
}
