/**
 * The fused /predict body scan against the exact path, in one process, per body (batch 1, 10, 100):
 *   exact: scan the shape, JSON.parse, validate, featurise + score (scorer.scoreBatch);
 *   fused: createPredictBodyScan over the text (shape, types, limits and field hashes in one pass),
 *          then indices + weights from the hashes (HashedPredictBody.score).
 * Both score the same model (bench-serving-model, 2^20) and are checked to give the same CTRs bit for
 * bit before timing. CPU time (process.cpuUsage) over --ms milliseconds per case, best of --rounds.
 *
 *   npm run bench:predict-body-scan [-- --ms 1500 --rounds 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { scanJsonShape } from '../services/inference/src/json-shape-scan.js';
import { createPredictBodyScan } from '../services/inference/src/predict-body-scan.js';
import { compilePredictBodyValidator } from '../services/inference/src/predict-body-validator.js';
import { predictShapeLimits } from '../services/inference/src/predict-limits.js';
import type { PredictRequest } from '../services/inference/src/predict-schemas.js';
import { benchServingModel } from './support/bench-serving-model.js';
import { floorImpression } from './support/floor-impression.js';

const { values } = parseArgs({
  options: { ms: { type: 'string', default: '1500' }, rounds: { type: 'string', default: '3' } },
});
const ms = Number(values.ms);
const rounds = Number(values.rounds);
const MAX_BATCH = 1000;
const model = benchServingModel();
const limits = predictShapeLimits(MAX_BATCH);
const validate = compilePredictBodyValidator(MAX_BATCH);
const fused = createPredictBodyScan(MAX_BATCH);
const out = new Float64Array(MAX_BATCH);

function exact(text: string): Float64Array {
  if (scanJsonShape(text, limits)) throw new Error('shape');
  const body = JSON.parse(text) as PredictRequest;
  if (!validate(body)) throw new Error('invalid');
  return model.scorer.scoreBatch(body.impressions, out);
}

function viaScan(text: string): Float64Array {
  const hashed = fused(text, model);
  if (hashed === undefined) throw new Error('the fused scan refused a common body');
  return hashed.score(out);
}

/** CPU ns per call, best of `rounds`. */
function time(f: (text: string) => unknown, text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const t0 = process.cpuUsage();
    const wall0 = performance.now();
    while (performance.now() - wall0 < ms) {
      for (let k = 0; k < 50; k++) f(text);
      calls += 50;
    }
    const t = process.cpuUsage(t0);
    best = Math.min(best, ((t.user + t.system) * 1000) / calls);
  }
  return best;
}

const load0 = loadavg();
const rows: string[] = [];
for (const n of [1, 10, 100]) {
  const text = JSON.stringify({ impressions: Array.from({ length: n }, (_, i) => floorImpression(i)) });
  const a = Float64Array.from(exact(text).subarray(0, n));
  const b = Float64Array.from(viaScan(text).subarray(0, n));
  for (let i = 0; i < n; i++)
    if (!Object.is(a[i], b[i])) throw new Error(`batch ${n}, impression ${i}: ${a[i]} vs ${b[i]}`);
  const te = time(exact, text);
  const tf = time(viaScan, text);
  rows.push(
    `| ${n} | ${text.length} | ${(te / 1000).toFixed(2)} | ${(tf / 1000).toFixed(2)} | ${(te / n / 1000).toFixed(3)} | ${(tf / n / 1000).toFixed(3)} | ${(tf / te).toFixed(2)} |`,
  );
}
const load1 = loadavg();
console.log(
  `\n/predict body: exact path vs fused scan, CPU per body, best of ${rounds} × ${ms} ms, load average ${load0.map((l) => l.toFixed(1)).join(' / ')} before, ${load1.map((l) => l.toFixed(1)).join(' / ')} after; CTRs identical bit for bit\n`,
);
console.log('| batch | body bytes | exact µs | fused µs | exact µs/impression | fused µs/impression | fused / exact |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
