/**
 * Scorer throughput: impressions/s on one core for a spec of 20 fields + 10 crosses (2^20 buckets, dense
 * weights), through `score(raw)` (featurise + sum + sigmoid) and `scoreBatch`, plus featurisation alone.
 * The machine is shared: "per CPU-s" divides by this process's CPU time, "wall" by elapsed time.
 *
 *   npx tsx --conditions=source bench/model-scorer.ts [--n 2000000]
 */
import { parseArgs } from 'node:util';
import {
  createFeaturizer,
  createScorer,
  defaultFeatureSpec,
  type FeatureSpecInput,
  parseArtifact,
  parseFeatureSpec,
  RAW_COLUMNS,
  type RawImpression,
  serializeArtifact,
} from '@fallback-ctr/model';
import { benchArtifactInput } from './support/bench-artifact.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '2000000' } } });
const N = Number(values.n);

const contextCategorical = [
  'site_category',
  'browser',
  'language',
  'region',
  'connection',
  'publisher_id',
  'page_type',
  'hour_of_day',
];
const specInput: FeatureSpecInput = {
  version: 1,
  hashBits: 20,
  fields: [
    ...RAW_COLUMNS.map((name) => ({ name, source: 'column' as const, kind: 'categorical' as const })),
    ...contextCategorical.map((name) => ({ name, source: 'context' as const, kind: 'categorical' as const })),
    { name: 'user_age_days', source: 'context', kind: 'log1p', scale: 2 },
    { name: 'page_views', source: 'context', kind: 'buckets', boundaries: [1, 2, 3, 5, 8, 13, 21, 50, 100] },
    { name: 'session_depth', source: 'context', kind: 'buckets', boundaries: [1, 2, 4, 8, 16] },
    { name: 'screen_width', source: 'context', kind: 'buckets', boundaries: [360, 480, 768, 1024, 1280, 1920] },
  ],
  crosses: [
    ...defaultFeatureSpec.crosses,
    { fields: ['publisher_id', 'ad_id'] },
    { fields: ['placement', 'device_type', 'os'] },
  ],
};
const spec = parseFeatureSpec(specInput);
if (spec.fields.length !== 20 || spec.crosses.length !== 10)
  throw new Error('bench spec must have 20 fields + 10 crosses');

let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const pick = (prefix: string, n: number) => `${prefix}-${Math.floor(n * rand() * rand())}`;
// A pool of distinct impressions shaped like POST /predict bodies (parsed from JSON, as the server sees them).
const pool: RawImpression[] = JSON.parse(
  JSON.stringify(
    Array.from({ length: 10_000 }, () => ({
      slot_id: pick('slot', 2000),
      placement: pick('placement', 8),
      ad_id: pick('ad', 3000),
      campaign_id: pick('cmp', 400),
      advertiser_id: pick('adv', 120),
      device_type: pick('dev', 4),
      os: pick('os', 10),
      country: pick('c', 30),
      context: {
        site_category: pick('site', 20),
        browser: pick('br', 8),
        language: pick('lang', 20),
        region: pick('reg', 100),
        connection: pick('conn', 4),
        publisher_id: pick('pub', 500),
        page_type: pick('pt', 6),
        hour_of_day: Math.floor(rand() * 24),
        user_age_days: Math.exp(rand() * 8),
        page_views: Math.floor(rand() * 60),
        session_depth: Math.floor(rand() * 20),
        screen_width: Math.floor(320 + rand() * 1600),
      },
    })),
  ),
);

const weights = new Float32Array(2 ** spec.hashBits);
for (let i = 0; i < weights.length; i++) weights[i] = (rand() - 0.5) * 0.2;
const artifact = parseArtifact(serializeArtifact(benchArtifactInput(spec, weights, -3)).bytes);
const scorer = createScorer(artifact);
const featurizer = createFeaturizer(spec);
const buf = new Uint32Array(featurizer.maxIndices);

function measure(name: string, n: number, fn: () => number) {
  fn(); // warm-up round is part of fn's loop below
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sink = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  return {
    case: name,
    impressions: n,
    'wall s': wall.toFixed(2),
    'per wall-s': Math.round(n / wall).toLocaleString('en'),
    'per CPU-s': Math.round(n / cpu).toLocaleString('en'),
    sink: sink.toFixed(3),
  };
}

const P = pool.length;
const rows = [
  measure('featurize(raw, out)', N, () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += featurizer.featurize(pool[i % P] as RawImpression, buf) + (buf[0] as number);
    return s / N;
  }),
  measure('score(raw)', N, () => {
    let s = 0;
    for (let i = 0; i < N; i++) s += scorer.score(pool[i % P] as RawImpression);
    return s / N;
  }),
  measure('scoreBatch(100 raws, out)', N, () => {
    const out = new Float64Array(100);
    const batches = Array.from({ length: P / 100 }, (_, b) => pool.slice(b * 100, b * 100 + 100));
    let s = 0;
    for (let i = 0; i < N / 100; i++) {
      scorer.scoreBatch(batches[i % batches.length] as RawImpression[], out);
      s += out[0] as number;
    }
    return s / (N / 100);
  }),
];
console.log(
  `scorer: ${spec.fields.length} fields + ${spec.crosses.length} crosses, 2^${spec.hashBits} buckets, ${P} distinct impressions, Node ${process.version}`,
);
console.table(rows);
