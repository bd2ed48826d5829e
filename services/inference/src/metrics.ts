import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BoundHistogram, type HistogramSeries } from './bound-histogram.js';
import type { ModelHolder } from './model-holder.js';

export interface InferenceMetrics {
  registry: Registry;
  /** Bind a series per (method, route, status) once (`series`), then `observe` costs ~30 ns. */
  requestDuration: BoundHistogram<'method' | 'route' | 'status_code'>;
  predictions: Counter;
  /** Impressions per POST /predict: its one series. */
  batchSize: HistogramSeries;
  errors: Counter<'code' | 'status_code'>;
  modelInfo: Gauge<'model_name' | 'model_version' | 'resolved_from' | 'format_version'>;
  /** The challenger scored in shadow (absent when shadow is off or no challenger loaded). */
  shadowModelInfo: Gauge<'model_name' | 'model_version' | 'resolved_from'>;
  shadowRequests: Counter;
  shadowPredictions: Counter;
  /** Shadow scorings that threw: counted and logged, never seen by the client. */
  shadowErrors: Counter;
  /** Event-loop time spent scoring in shadow, after the answers went out. */
  shadowSeconds: Counter;
  predictionLogWritten: Counter;
  predictionLogDropped: Counter<'reason'>;
  predictionLogQueue: Gauge;
  /** Reports the prediction log's queue depth at each scrape (the log passes its own reader). */
  watchPredictionLogQueue(depth: () => number): void;
}

const PREFIX = 'fallback_ctr_inference_';

/** One registry per app (tests build many apps in one process). */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): InferenceMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name: `${PREFIX}${name}`, help, registers });
  /** An info metric: value 1, the labels carry the facts; the first worker's series stands for the pod. */
  const infoGauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({
      name: `${PREFIX}${name}`,
      help: `${help} (value 1; the labels carry the facts)`,
      labelNames,
      aggregator: 'first',
      registers,
    });
  let queueDepth = () => 0;
  return {
    registry,
    requestDuration: new BoundHistogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    predictions: counter('predictions_total', 'Impressions scored'),
    batchSize: new BoundHistogram({
      name: `${PREFIX}predict_batch_size`,
      help: 'Impressions per POST /predict request',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
      registers,
    }).series({}),
    errors: new Counter({
      name: `${PREFIX}errors_total`,
      help: 'Error responses by stable error code',
      labelNames: ['code', 'status_code'] as const,
      registers,
    }),
    modelInfo: infoGauge('model_info', 'The model this server serves', [
      'model_name',
      'model_version',
      'resolved_from',
      'format_version',
    ] as const),
    shadowModelInfo: infoGauge('shadow_model_info', 'The challenger scored in shadow', [
      'model_name',
      'model_version',
      'resolved_from',
    ] as const),
    shadowRequests: counter(
      'shadow_requests_total',
      'POST /predict requests also scored by the shadow model (after answering)',
    ),
    shadowPredictions: counter('shadow_predictions_total', 'Impressions scored by the shadow model (never returned)'),
    shadowErrors: counter('shadow_errors_total', 'Shadow scorings that failed (the answer had already gone out)'),
    shadowSeconds: counter('shadow_seconds_total', 'Time spent scoring in shadow, after the answers were sent'),
    predictionLogQueue: new Gauge({
      name: `${PREFIX}prediction_log_queue_depth`,
      help: 'Predictions waiting to be written to the prediction log (summed over workers)',
      registers,
      collect() {
        this.set(queueDepth());
      },
    }),
    predictionLogWritten: counter(
      'prediction_log_written_total',
      'Predictions written to the prediction log (PREDICTION_LOG_DATABASE_URL)',
    ),
    predictionLogDropped: new Counter({
      name: `${PREFIX}prediction_log_dropped_total`,
      help: 'Predictions not logged: queue_full (database slow or down), write_failed, missing_id (no impression id), unloggable_id (an id PostgreSQL text cannot hold: NUL), closed (shutdown)',
      labelNames: ['reason'] as const,
      registers,
    }),
    watchPredictionLogQueue: (depth) => {
      queueDepth = depth;
    },
  };
}

/**
 * `produce` called at most once per `ms`: callers within that time share one answer (a failed
 * answer is not kept). The pod-wide aggregate costs a round trip to every worker.
 */
export function cachedFor(ms: number, produce: () => Promise<string>): () => Promise<string> {
  let cached: { at: number; text: Promise<string> } | undefined;
  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at >= ms) {
      const entry = { at: now, text: produce() };
      cached = entry;
      entry.text.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.text;
  };
}

/** Sets the model_info gauge when the holder's model arrives. */
export function recordServedModel(metrics: InferenceMetrics, holder: ModelHolder): void {
  holder.onLoad((model) => {
    metrics.modelInfo.set(
      {
        model_name: model.name,
        model_version: model.version,
        resolved_from: model.resolvedFrom,
        format_version: String(model.artifact.formatVersion),
      },
      1,
    );
  });
}

/** shadow_model_info: the challenger, once (if ever) it is loaded. */
export function recordShadowModel(metrics: InferenceMetrics, holder: ModelHolder): void {
  holder.onLoad((model) => {
    metrics.shadowModelInfo.set(
      { model_name: model.name, model_version: model.version, resolved_from: model.resolvedFrom },
      1,
    );
  });
}
