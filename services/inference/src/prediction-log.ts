import { createPredictionLogWriter, type PredictionLogWriter } from '@fallback-ctr/prediction-log';
import type { Logger } from '@fallback-ctr/runtime';
import type { PredictionLogConfig } from './config.js';
import type { InferenceMetrics } from './metrics.js';

/** Most time the prediction log gets at shutdown to write what is queued (the rest is dropped, counted). */
export const PREDICTION_LOG_CLOSE_MS = 2_000;

/** The worker's prediction log, its counters and queue depth reported in /metrics. */
export function createInferencePredictionLog(
  config: PredictionLogConfig,
  metrics: InferenceMetrics,
  logger: Logger,
): PredictionLogWriter {
  const writer = createPredictionLogWriter({
    ...config,
    logger,
    onWritten: (count) => metrics.predictionLogWritten.inc(count),
    onDropped: (count, reason) => metrics.predictionLogDropped.inc({ reason }, count),
  });
  metrics.watchPredictionLogQueue(() => writer.stats().queued);
  return writer;
}
