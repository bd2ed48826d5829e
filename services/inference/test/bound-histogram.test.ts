import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BoundHistogram } from '../src/bound-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, number][] = [
  ['200', 0.0004],
  ['200', 0.001],
  ['200', 0.05],
  ['400', 0.2],
  ['200', 7],
];

/** The same observations into prom-client's Histogram and into a BoundHistogram, each in its registry. */
function both() {
  const plain = new Registry();
  const bound = new Registry();
  const config = { name: 'req_seconds', help: 'Request duration', labelNames: ['route', 'status_code'] as const };
  const reference = new Histogram({ ...config, buckets: BUCKETS, registers: [plain] });
  const subject = new BoundHistogram({ ...config, buckets: BUCKETS, registers: [bound] });
  const series = new Map(['200', '400'].map((s) => [s, subject.series({ route: '/predict', status_code: s })]));
  for (const [status, seconds] of OBSERVED) {
    reference.labels('/predict', status).observe(seconds);
    series.get(status)!.observe(seconds);
  }
  return { plain, bound, subject };
}

describe('BoundHistogram', () => {
  it("exposes exactly prom-client's Histogram text for the same observations", async () => {
    const { plain, bound } = both();
    const text = await bound.metrics();
    expect(text).toBe(await plain.metrics());
    expect(text).toContain('req_seconds_bucket{le="0.001",route="/predict",status_code="200"} 2');
    expect(text).toContain('req_seconds_count{route="/predict",status_code="200"} 4');
  });

  it('gives the same JSON, so the cluster aggregate of workers is the same too', async () => {
    const a = both();
    const b = both();
    expect(await a.bound.getMetricsAsJSON()).toEqual(await a.plain.getMetricsAsJSON());
    const aggregated = AggregatorRegistry.aggregate([
      await a.bound.getMetricsAsJSON(),
      await b.bound.getMetricsAsJSON(),
    ]);
    const reference = AggregatorRegistry.aggregate([
      await a.plain.getMetricsAsJSON(),
      await b.plain.getMetricsAsJSON(),
    ]);
    expect(await aggregated.metrics()).toBe(await reference.metrics());
    expect(await aggregated.metrics()).toContain('req_seconds_count{route="/predict",status_code="200"} 8');
  });

  it('an unlabelled series shows zeros before its first observation, like a Histogram without labels; reset zeroes', async () => {
    const plain = new Registry();
    const bound = new Registry();
    new Histogram({ name: 'batch', help: 'Batch size', buckets: [1, 10], registers: [plain] });
    const subject = new BoundHistogram({ name: 'batch', help: 'Batch size', buckets: [1, 10], registers: [bound] });
    const series = subject.series({});
    expect(await bound.metrics()).toBe(await plain.metrics());
    series.observe(3);
    expect(await bound.metrics()).toContain('batch_sum 3');
    subject.reset();
    expect(await bound.metrics()).toBe(await plain.metrics());
  });
});
