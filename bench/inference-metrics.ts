/**
 * The per-request metrics work of POST /predict, alone: prom-client's Histogram (through a `labels()`
 * child, as the route observer had it) against services/inference's BoundHistogram (series bound once),
 * each doing what one request does: one duration observation and one batch-size observation. Same
 * process, interleaved rounds, CPU time of this process.
 *
 *   npx tsx --conditions=source bench/inference-metrics.ts [--n 2000000] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Histogram, Registry } from 'prom-client';
import { BoundHistogram } from '../services/inference/src/bound-histogram.js';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '3' } },
});
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const labelNames = ['method', 'route', 'status_code'] as const;

function promClient(): (seconds: number, batch: number) => void {
  const registers = [new Registry()];
  const duration = new Histogram({ name: 'd', help: 'd', labelNames, buckets: DURATION_BUCKETS, registers });
  const batch = new Histogram({ name: 'b', help: 'b', buckets: BATCH_BUCKETS, registers });
  const child = duration.labels('POST', '/predict', '200');
  return (seconds, n) => {
    child.observe(seconds);
    batch.observe(n);
  };
}

function bound(): (seconds: number, batch: number) => void {
  const registers = [new Registry()];
  const duration = new BoundHistogram({ name: 'd', help: 'd', labelNames, buckets: DURATION_BUCKETS, registers });
  const batch = new BoundHistogram({ name: 'b', help: 'b', buckets: BATCH_BUCKETS, registers }).series({});
  const series = duration.series({ method: 'POST', route: '/predict', status_code: '200' });
  return (seconds, n) => {
    series.observe(seconds);
    batch.observe(n);
  };
}

function nsPerRequest(record: (seconds: number, batch: number) => void): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) record(((i * 7919) % 5000) / 1e6, 1 + (i % 100));
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / N;
}

const cases = {
  'prom-client Histogram (labels() child + unlabelled)': promClient,
  'BoundHistogram (bound series)': bound,
};
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of Object.entries(cases)) {
    const ns = nsPerRequest(make());
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ns));
  }
}
const base = best.get(Object.keys(cases)[0] as string) as number;
console.log(
  `\nmetrics per request (1 duration + 1 batch-size observation), ${N.toLocaleString('en')} requests, best of ${ROUNDS} rounds, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}\n`,
);
console.log('| metrics path | CPU ns per request | vs prom-client |');
console.log('|---|---:|---:|');
for (const [name, ns] of best) console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns / base).toFixed(2)}× |`);
