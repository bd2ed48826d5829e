/**
 * Memory and throughput of artifact transfers through the MLflow artifact proxy.
 *
 *   npx tsx --conditions=source bench/mlflow-artifacts.ts [--mb 50]
 *
 * Needs the MLflow server of scripts/services.sh (MLFLOW_TRACKING_URI, default http://127.0.0.1:55000).
 * Samples the process RSS (and Buffer memory) every 10 ms while each operation runs and prints before / peak / after.
 * Streamed operations should stay flat whatever the size; the buffered download is shown for contrast.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createMlflowClient } from '@fallback-ctr/mlflow';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '50' } } });
const sizeMb = Number(values.mb);
const trackingUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:55000';
const client = createMlflowClient({ trackingUri });
const mb = (bytes: number) => (bytes / (1 << 20)).toFixed(1);

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

interface Row {
  operation: string;
  'rss before MB': string;
  'rss peak MB': string;
  'peak - before MB': string;
  'rss after MB': string;
  'arrayBuffers peak MB': string;
  'MB/s': string;
  check: string;
}

async function measure(operation: string, fn: () => Promise<string>): Promise<Row> {
  gc();
  const before = process.memoryUsage.rss();
  let peak = before;
  let buffersPeak = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    peak = Math.max(peak, usage.rss);
    buffersPeak = Math.max(buffersPeak, usage.arrayBuffers);
  }, 10);
  const started = performance.now();
  const check = await fn();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  gc();
  const after = process.memoryUsage.rss();
  return {
    operation,
    'rss before MB': mb(before),
    'rss peak MB': mb(peak),
    'peak - before MB': mb(peak - before),
    'rss after MB': mb(after),
    'arrayBuffers peak MB': mb(buffersPeak),
    'MB/s': (sizeMb / seconds).toFixed(0),
    check,
  };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

const dir = await mkdtemp(join(tmpdir(), 'mlflow-bench-'));
const source = join(dir, 'source.bin');
const block = randomBytes(1 << 20);
await pipeline(
  Readable.from(
    (function* () {
      for (let i = 0; i < sizeMb; i++) {
        block[0] = i & 0xff;
        yield Buffer.from(block);
      }
    })(),
  ),
  createWriteStream(source),
);
const expected = await sha256File(source);
const experiment = await client.getOrCreateExperiment(`bench-mlflow-artifacts-${Date.now()}`);
const run = await client.createRun({ experimentId: experiment.experimentId, runName: 'bench' });
const uri = run.info.artifactUri;
const rows: Row[] = [];
try {
  rows.push(
    await measure(`upload ${sizeMb} MB from a file`, async () => {
      await client.uploadArtifact(uri, 'big/file.bin', { filePath: source });
      return 'uploaded';
    }),
  );
  rows.push(
    await measure(`upload ${sizeMb} MB from a stream`, async () => {
      await client.uploadArtifact(uri, 'big/stream.bin', createReadStream(source));
      return 'uploaded';
    }),
  );
  rows.push(
    await measure(`download ${sizeMb} MB to a file`, async () => {
      const result = await client.downloadArtifactToFile(uri, 'big/file.bin', join(dir, 'copy.bin'));
      const onDisk = await sha256File(join(dir, 'copy.bin'));
      return result.sha256 === expected && onDisk === expected ? 'sha256 identical' : 'MISMATCH';
    }),
  );
  rows.push(
    await measure(`download ${sizeMb} MB as a stream`, async () => {
      const hash = createHash('sha256');
      await pipeline(await client.openArtifactStream(uri, 'big/stream.bin'), hash);
      return hash.digest('hex') === expected ? 'sha256 identical' : 'MISMATCH';
    }),
  );
  rows.push(
    await measure(`download ${sizeMb} MB into a Buffer (buffered, for contrast)`, async () => {
      const bytes = await client.downloadArtifact(uri, 'big/file.bin');
      return createHash('sha256').update(bytes).digest('hex') === expected ? 'sha256 identical' : 'MISMATCH';
    }),
  );
} finally {
  await client.deleteArtifacts(uri);
  await client.deleteExperiment(experiment.experimentId);
  await rm(dir, { recursive: true, force: true });
}
console.log(
  `MLflow artifact proxy at ${trackingUri}, ${sizeMb} MB, node ${process.version}, gc exposed: ${typeof (globalThis as { gc?: unknown }).gc === 'function'}`,
);
console.table(rows);
