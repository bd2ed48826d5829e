/**
 * Training throughput of FTRL-Proximal on pre-featurised rows (typed-array batch, width 20 = the default
 * spec's 12 fields + 8 crosses, 2^20 buckets, Zipf-like index popularity, ~2% clicks), rows/s per pass.
 * The machine is shared: "per CPU-s" divides by this process's CPU time, "wall" by elapsed time.
 *
 *   npx tsx --conditions=source bench/learn-train.ts [--rows 1000000] [--passes 3]
 */
import { parseArgs } from 'node:util';
import { createPrng, type FeaturizedBatch, trainOnBatch } from '@fallback-ctr/learn';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, passes: { type: 'string', default: '3' } },
});
const rows = Number(values.rows);
const passes = Number(values.passes);
const width = 20;
const hashBits = 20;
const rand = createPrng(7);
const indices = new Uint32Array(rows * width);
const labels = new Uint8Array(rows);
const vocab = Array.from({ length: width }, (_, k) => 10 + Math.floor(5000 * rand() * (k + 1)));
for (let r = 0; r < rows; r++) {
  let score = 0;
  for (let k = 0; k < width; k++) {
    const v = Math.floor((vocab[k] as number) * rand() * rand());
    indices[r * width + k] = (Math.imul(v + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b)) >>> (32 - hashBits);
    score += (v % 7) - 3;
  }
  labels[r] = rand() < 0.02 * Math.exp(score / 20) ? 1 : 0;
}
const batch: FeaturizedBatch = { rows, width, indices, labels };

const table = [];
for (const [name, opts] of [
  ['FTRL l1=1 l2=1', { hashBits, passes }],
  ['FTRL l1=0 l2=0', { hashBits, passes, l1: 0, l2: 0 }],
  ['FTRL w = 0.1 down-sampling', { hashBits, passes, negativeSamplingRate: 0.1 }],
] as const) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = trainOnBatch(batch, opts);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const trained = res.passes.reduce((s, p) => s + p.rows, 0);
  table.push({
    case: name,
    'rows/pass': res.passes[0]?.rows,
    passes,
    'wall s': wall.toFixed(2),
    'trained rows/s wall': Math.round(trained / wall).toLocaleString('en'),
    'trained rows/s per CPU-s': Math.round(trained / cpu).toLocaleString('en'),
    'input rows/s per CPU-s': Math.round((rows * passes) / cpu).toLocaleString('en'),
    'progressive logloss (last pass)': res.passes[passes - 1]?.progressiveLogloss.toFixed(4),
  });
}
console.log(
  `training: ${rows} pre-featurised rows × width ${width}, 2^${hashBits} buckets, ${passes} passes, Node ${process.version}`,
);
console.table(table);
