import type { PredictionLogWriter } from '@fallback-ctr/prediction-log';
import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { createBearerVerifier } from './bearer-auth.js';
import { createErrorReplies } from './error-handler.js';
import { installJsonBodyParser } from './json-body-parser.js';
import { cachedFor, createMetrics, type InferenceMetrics, recordServedModel, recordShadowModel } from './metrics.js';
import type { ModelHolder } from './model-holder.js';
import { notFoundHandler } from './not-found-handler.js';
import { registerDocs } from './openapi-docs.js';
import { createPredictBodyScan } from './predict-body-scan.js';
import { predictShapeLimits } from './predict-limits.js';
import { registerPredictRoute } from './predict-route.js';
import { observeRoutes } from './route-observers.js';
import { registerServiceRoutes } from './service-routes.js';
import { createShadowScorer, logShadowScores, type ShadowScores } from './shadow-scorer.js';

export interface BuildAppOptions {
  /** Serving state; the model may already be loaded (tests) or arrive later (start-up). */
  holder: ModelHolder;
  logger?: Logger;
  /** Most impressions in one POST /predict. Default 1000. */
  maxBatchSize?: number;
  /** Largest request body in bytes (413 above). Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Bearer tokens accepted on /predict; empty = no auth. */
  apiTokens?: readonly string[];
  metrics?: InferenceMetrics;
  /** What GET /metrics returns; a cluster worker passes the pod-wide aggregate. Default: this process's registry. */
  metricsText?: () => Promise<string>;
  /** Serve the OpenAPI document at /docs/json and the docs page at /docs. Default true. */
  docs?: boolean;
  /** Most time to receive a whole request (headers and body); slower ones get 408. Default 10 s. */
  requestTimeoutMs?: number;
  /** A challenger scored in shadow on `share` of the requests, after answering; absent = no shadow. */
  shadow?: { holder: ModelHolder; share: number; onScored?: (scores: ShadowScores) => void };
  /** Where served scores are logged (off when absent); the caller owns it and closes it after the app. */
  predictionLog?: PredictionLogWriter;
  /**
   * Read common /predict bodies with the fused scan (predict-body-scan.ts). Default true; always off
   * with a shadow model, which scores the parsed impressions. Off in the differential test's reference app.
   */
  fusedBodyScan?: boolean;
}

/** A /metrics scrape is answered from an aggregate at most this old: scrapers cannot starve /predict. */
export const METRICS_CACHE_MS = 1_000;

/**
 * The Fastify app, not listening: tests call `app.inject()`, the server calls `app.listen()`. Built in
 * steps whose order matters: the route observers' `onRoute` hook and the docs come before the routes
 * they see.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { holder } = options;
  const logger = options.logger ?? silentLogger();
  const maxBatchSize = options.maxBatchSize ?? 1000;
  const metrics = options.metrics ?? createMetrics();
  const verify = options.apiTokens && options.apiTokens.length > 0 ? createBearerVerifier(options.apiTokens) : null;

  const app = createServer(logger, options.bodyLimitBytes ?? 1024 * 1024, options.requestTimeoutMs ?? 10_000);
  const errors = createErrorReplies(logger, metrics);
  // JSON only: text/plain would otherwise be accepted and fail later as a 400 instead of a 415.
  const scan = (options.fusedBodyScan ?? true) && !options.shadow ? createPredictBodyScan(maxBatchSize) : undefined;
  installJsonBodyParser(
    app,
    predictShapeLimits(maxBatchSize),
    scan &&
      ((text) => {
        const model = holder.get();
        return model && scan(text, model);
      }),
  );
  app.setErrorHandler(errors.handler);
  const routes = observeRoutes(app, metrics, logger);
  app.setNotFoundHandler(notFoundHandler(errors, routes));
  recordServedModel(metrics, holder);
  const shadowSinks = [
    options.shadow?.onScored,
    options.predictionLog ? logShadowScores(options.predictionLog) : undefined,
  ].filter((sink) => sink !== undefined);
  const shadow = options.shadow
    ? createShadowScorer({
        holder: options.shadow.holder,
        share: options.shadow.share,
        metrics,
        logger,
        onScored: (scores) => {
          for (const sink of shadowSinks) sink(scores);
        },
      })
    : undefined;
  if (options.shadow) recordShadowModel(metrics, options.shadow.holder);

  if (options.docs ?? true) await registerDocs(app, { holder, authRequired: verify !== null, maxBatchSize });
  registerPredictRoute(app, {
    holder,
    errors,
    metrics,
    maxBatchSize,
    verify,
    shadow,
    predictionLog: options.predictionLog,
  });
  registerServiceRoutes(app, {
    holder,
    errors,
    metrics,
    metricsText: cachedFor(METRICS_CACHE_MS, options.metricsText ?? (() => metrics.registry.metrics())),
  });
  return app;
}

/** Fastify with the server's limits and a logger that costs nothing per request. */
function createServer(logger: Logger, bodyLimit: number, requestTimeoutMs: number): FastifyInstance {
  return Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines only at debug (the route observers): logging costs nothing on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    // No pino child per request (it serialises bindings every time); lines that need it carry reqId.
    childLoggerFactory: (parent) => parent,
    bodyLimit,
    return503OnClosing: false,
    // A body that trickles in is cut off with 408 (Node checks the deadline every interval).
    requestTimeout: requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs), headersTimeout: requestTimeoutMs },
  });
}
