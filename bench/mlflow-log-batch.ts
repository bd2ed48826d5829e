/**
 * Time to log large batches to the real MLflow server, and how many requests they take.
 *
 *   npx tsx --conditions=source bench/mlflow-log-batch.ts
 *
 * Needs the MLflow server of scripts/services.sh (MLFLOW_TRACKING_URI, default http://127.0.0.1:55000).
 */
import { createMlflowClient, planLogBatch } from '@fallback-ctr/mlflow';

const trackingUri = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:55000';
const client = createMlflowClient({ trackingUri });

const cases = [
  { name: '2,500 metrics + 250 params + 250 tags', metrics: 2_500, params: 250, tags: 250, step: 1 },
  { name: '10,000 metric points (100 keys x 100 steps)', metrics: 10_000, params: 0, tags: 0, step: 100 },
  { name: '200 params of 5,000 characters', metrics: 0, params: 200, tags: 0, step: 1, long: 5_000 },
];

const experiment = await client.getOrCreateExperiment(`bench-mlflow-log-batch-${Date.now()}`);
const rows = [];
try {
  for (const c of cases) {
    const run = await client.createRun({ experimentId: experiment.experimentId });
    const keys = c.metrics / c.step;
    const batch = {
      metrics: Array.from({ length: c.metrics }, (_, i) => ({
        key: `metric_${i % keys}`,
        value: Math.sin(i),
        step: Math.floor(i / keys),
      })),
      params: Object.fromEntries(
        Array.from({ length: c.params }, (_, i) => [`param_${i}`, c.long ? 'p'.repeat(c.long) : `v${i}`]),
      ),
      tags: Object.fromEntries(Array.from({ length: c.tags }, (_, i) => [`tag_${i}`, `t${i}`])),
    };
    const requests = planLogBatch(batch).length;
    const started = performance.now();
    await client.logBatch(run.info.runId, batch);
    const ms = performance.now() - started;
    const read = await client.getRun(run.info.runId);
    rows.push({
      batch: c.name,
      requests,
      'total ms': ms.toFixed(0),
      'ms per request': (ms / requests).toFixed(0),
      'entities/s': ((c.metrics + c.params + c.tags) / (ms / 1000)).toFixed(0),
      'read back': `${Object.keys(read.data.metrics).length} metric keys, ${Object.keys(read.data.params).length} params`,
    });
  }
} finally {
  await client.deleteExperiment(experiment.experimentId);
}
console.log(`MLflow at ${trackingUri} (PostgreSQL backend), node ${process.version}`);
console.table(rows);
