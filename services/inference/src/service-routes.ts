import type { FastifyInstance } from 'fastify';
import type { ErrorReplies } from './error-handler.js';
import { InferenceErrorCode } from './errors.js';
import type { InferenceMetrics } from './metrics.js';
import type { ModelHolder } from './model-holder.js';
import { modelInfo } from './model-info.js';
import {
  ERROR_RESPONSE,
  HealthResponseSchema,
  jsonSchema,
  ModelInfoResponseSchema,
  ReadyResponseSchema,
} from './predict-schemas.js';

export interface ServiceRoutesOptions {
  holder: ModelHolder;
  errors: ErrorReplies;
  metrics: InferenceMetrics;
  /** What GET /metrics returns (already cached by the caller). */
  metricsText: () => Promise<string>;
}

/** The routes about the service itself: liveness, readiness, the loaded model and its metrics. */
export function registerServiceRoutes(app: FastifyInstance, o: ServiceRoutesOptions): void {
  const { holder, errors, metrics } = o;
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
    const text = await o.metricsText();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
