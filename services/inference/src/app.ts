import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type onResponseHookHandler,
} from 'fastify';
import type { Histogram } from 'prom-client';
import { createBearerVerifier } from './bearer-auth.js';
import { createErrorReplies } from './error-handler.js';
import { InferenceErrorCode } from './errors.js';
import { installJsonBodyParser } from './json-body-parser.js';
import { cachedFor, createMetrics, type InferenceMetrics } from './metrics.js';
import type { ModelHolder } from './model-holder.js';
import { modelInfo } from './model-info.js';
import { registerDocs } from './openapi-docs.js';
import { compilePredictBodyValidator } from './predict-body-validator.js';
import {
  ErrorResponseSchema,
  HealthResponseSchema,
  jsonSchema,
  ModelInfoResponseSchema,
  type PredictRequest,
  type PredictResponse,
  PredictResponseSchema,
  predictRequestSchema,
  ReadyResponseSchema,
} from './predict-schemas.js';

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
}

/** A /metrics scrape is answered from an aggregate at most this old: scrapers cannot starve /predict. */
export const METRICS_CACHE_MS = 1_000;

const ERROR_RESPONSE = jsonSchema(ErrorResponseSchema, 'output');

/** The Fastify app, not listening: tests call `app.inject()`, the server calls `app.listen()`. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { holder } = options;
  const logger = options.logger ?? silentLogger();
  const maxBatchSize = options.maxBatchSize ?? 1000;
  const metrics = options.metrics ?? createMetrics();
  const metricsText = cachedFor(METRICS_CACHE_MS, options.metricsText ?? (() => metrics.registry.metrics()));
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const verify = options.apiTokens && options.apiTokens.length > 0 ? createBearerVerifier(options.apiTokens) : null;
  const logRequests = logger.isLevelEnabled('debug');

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines only at debug (onResponse hook below): logging costs nothing on the hot path.
    logController: new LogController({ disableRequestLogging: true }),
    // No pino child per request (it serialises bindings every time); lines that need it carry reqId.
    childLoggerFactory: (parent) => parent,
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    return503OnClosing: false,
    // A body that trickles in is cut off with 408 (Node checks the deadline every interval).
    requestTimeout: requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs), headersTimeout: requestTimeoutMs },
  });
  const errors = createErrorReplies(logger, metrics);
  // JSON only: text/plain would otherwise be accepted and fail later as a 400 instead of a 415.
  installJsonBodyParser(app);
  app.setErrorHandler(errors.handler);
  /** Methods served per path, for 405 with `Allow` instead of 404 when only the method is wrong. */
  const methodsByPath = new Map<string, string[]>();
  app.setNotFoundHandler((request, reply) => {
    reply.raw.once('finish', () => observeUnmatched(request, reply));
    const path = request.url.split('?')[0] ?? '';
    const allowed = methodsByPath.get(path);
    if (allowed) {
      reply.header('allow', allowed.join(', '));
      return errors.send(reply, 405, InferenceErrorCode.INVALID_REQUEST, `${path} accepts ${allowed.join(', ')}`);
    }
    return errors.send(reply, 404, InferenceErrorCode.INVALID_REQUEST, `no route ${request.method} ${path}`);
  });

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

  // Per-route duration observers with the labels fixed at registration: nothing is looked up or
  // allocated per request beyond one Map read (request.routeOptions builds an object on every read).
  type Child = ReturnType<Histogram<'method' | 'route' | 'status_code'>['labels']>;
  const observer = (method: string, route: string) => {
    const byStatus = new Map<number, Child>();
    return (request: FastifyRequest, reply: FastifyReply) => {
      const status = reply.statusCode;
      let child = byStatus.get(status);
      if (!child) {
        child = metrics.requestDuration.labels(method, route, String(status));
        byStatus.set(status, child);
      }
      child.observe(reply.elapsedTime / 1000);
      if (logRequests) {
        logger.debug({ reqId: request.id, method, url: request.url, status, ms: reply.elapsedTime }, 'request');
      }
    };
  };
  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
    methodsByPath.set(route.url, [...(methodsByPath.get(route.url) ?? []), method]);
    const observe = observer(method, route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      observe(request, reply);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
  const observeUnmatched = observer('*', 'unmatched');

  if (options.docs ?? true) await registerDocs(app, { holder, authRequired: verify !== null, maxBatchSize });

  const scores = new Float64Array(maxBatchSize);
  const validateBody = compilePredictBodyValidator(maxBatchSize);
  const errorResponses = { 400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 413: ERROR_RESPONSE, 415: ERROR_RESPONSE };

  app.post(
    '/predict',
    {
      schema: {
        summary: 'Score a batch of impressions',
        description:
          'Every impression field is optional (a missing field is featurised as missing); unknown fields are ignored. ' +
          'Responds with one CTR per impression, in order, with ids echoed.',
        body: jsonSchema(predictRequestSchema(maxBatchSize), 'input'),
        response: { 200: jsonSchema(PredictResponseSchema, 'output'), ...errorResponses, 503: ERROR_RESPONSE },
        ...(verify ? { security: [{ bearer: [] }] } : {}),
      },
      validatorCompiler: () => validateBody,
      ...(verify
        ? {
            onRequest: (request, reply, done) => {
              if (verify(request.headers.authorization)) return done();
              reply.header('www-authenticate', 'Bearer');
              errors.send(reply, 401, InferenceErrorCode.UNAUTHORIZED, 'missing or invalid bearer token');
            },
          }
        : {}),
    },
    (request, reply) => {
      const model = holder.get();
      if (!model) {
        reply.header('retry-after', '1');
        return errors.send(reply, 503, InferenceErrorCode.NOT_READY, 'model not loaded yet');
      }
      const { impressions } = request.body as PredictRequest;
      // One buffer for all requests: scoring and copying out happen synchronously, nothing interleaves.
      const ctrs = model.scorer.scoreBatch(impressions, scores);
      const predictions: PredictResponse['predictions'] = new Array(impressions.length);
      for (let i = 0; i < impressions.length; i++) {
        const id = impressions[i]?.id;
        predictions[i] = id === undefined ? { ctr: ctrs[i] ?? Number.NaN } : { id, ctr: ctrs[i] ?? Number.NaN };
      }
      metrics.predictions.inc(impressions.length);
      metrics.batchSize.observe(impressions.length);
      const body: PredictResponse = { model: model.name, version: model.version, predictions };
      return reply.send(body);
    },
  );

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', response: { 200: jsonSchema(HealthResponseSchema, 'output') } } },
    (_request, reply) => reply.send({ status: 'ok' }),
  );

  const readyJson = jsonSchema(ReadyResponseSchema, 'output');
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 503 until the model is loaded and while draining',
        response: { 200: readyJson, 503: readyJson },
      },
    },
    (_request, reply) => {
      const model = holder.get();
      if (!model) return reply.code(503).send({ ready: false, reason: 'model not loaded yet' });
      if (holder.draining) {
        return reply.code(503).send({ ready: false, reason: 'draining', model: model.name, version: model.version });
      }
      return reply.send({ ready: true, model: model.name, version: model.version });
    },
  );

  app.get(
    '/model',
    {
      schema: {
        summary: 'The loaded model: name, version, feature spec, training metrics, loaded-at',
        response: { 200: jsonSchema(ModelInfoResponseSchema, 'output'), 503: ERROR_RESPONSE },
      },
    },
    (_request, reply) => {
      const model = holder.get();
      if (!model) return errors.send(reply, 503, InferenceErrorCode.NOT_READY, 'model not loaded yet');
      return reply.send(modelInfo(model));
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const text = await metricsText();
    return reply.type(metrics.registry.contentType).send(text);
  });

  return app;
}
