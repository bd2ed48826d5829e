import type { LoggedModel, PredictionLogWriter } from '@fallback-ctr/prediction-log';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { ErrorReplies } from './error-handler.js';
import { InferenceErrorCode } from './errors.js';
import type { InferenceMetrics } from './metrics.js';
import type { LoadedModel, ModelHolder } from './model-holder.js';
import { HashedPredictBody } from './predict-body-scan.js';
import { compilePredictBodyValidator } from './predict-body-validator.js';
import {
  ERROR_RESPONSE,
  jsonSchema,
  type PredictRequest,
  type PredictResponse,
  PredictResponseSchema,
  predictRequestSchema,
} from './predict-schemas.js';
import type { ShadowScorer } from './shadow-scorer.js';

export interface PredictRouteOptions {
  holder: ModelHolder;
  errors: ErrorReplies;
  metrics: InferenceMetrics;
  maxBatchSize: number;
  /** Checks the Authorization header; null = no auth. */
  verify: ((authorization: string | undefined) => boolean) | null;
  /** Scores a share of requests with the challenger once the answer is sent. */
  shadow?: ShadowScorer | undefined;
  /** Where served scores are logged; absent = not logged. */
  predictionLog?: PredictionLogWriter | undefined;
}

/** POST /predict: one CTR per impression, in order, ids echoed; 503 until the model is loaded. */
export function registerPredictRoute(app: FastifyInstance, o: PredictRouteOptions): void {
  const { holder, errors, metrics, shadow } = o;
  const scores = new Float64Array(o.maxBatchSize);
  const validateBody = compilePredictBodyValidator(o.maxBatchSize);
  const authenticate = o.verify === null ? undefined : bearerCheck(o.verify, errors);
  // Without tokens no request is refused with 401: the docs must not list it.
  const errorResponses = {
    400: ERROR_RESPONSE,
    ...(authenticate ? { 401: ERROR_RESPONSE } : {}),
    413: ERROR_RESPONSE,
    415: ERROR_RESPONSE,
  };
  const { predictionLog } = o;
  /** A served model as the prediction log names it: one object per model, so the log escapes its name once. */
  const loggedModels = new WeakMap<LoadedModel, LoggedModel>();
  const loggedModel = (model: LoadedModel): LoggedModel => {
    let logged = loggedModels.get(model);
    if (logged === undefined) {
      logged = { name: model.name, version: model.version, role: 'served' };
      loggedModels.set(model, logged);
    }
    return logged;
  };

  app.post(
    '/predict',
    {
      schema: {
        summary: 'Score a batch of impressions',
        description:
          'Every impression field is optional (a missing field is featurised as missing); unknown fields are ignored. ' +
          'Responds with one CTR per impression, in order, with ids echoed.',
        body: jsonSchema(predictRequestSchema(o.maxBatchSize), 'input'),
        response: { 200: jsonSchema(PredictResponseSchema, 'output'), ...errorResponses, 503: ERROR_RESPONSE },
        ...(authenticate ? { security: [{ bearer: [] }] } : {}),
      },
      validatorCompiler: () => validateBody,
      ...(authenticate ? { onRequest: authenticate } : {}),
    },
    (request, reply) => {
      // A body the fused scan read carries its hashes and the model they were made for.
      const hashed = request.body instanceof HashedPredictBody ? request.body : undefined;
      const model = hashed ? hashed.model : holder.get();
      if (!model) {
        reply.header('retry-after', '1');
        return errors.send(reply, 503, InferenceErrorCode.NOT_READY, 'model not loaded yet');
      }
      const impressions = hashed ? undefined : (request.body as PredictRequest).impressions;
      // One buffer for all requests: scoring and copying out happen synchronously, nothing interleaves.
      const ctrs = hashed ? hashed.score(scores) : model.scorer.scoreBatch(impressions ?? [], scores);
      const count = hashed ? hashed.count : (impressions?.length ?? 0);
      const predictions: PredictResponse['predictions'] = new Array(count);
      for (let i = 0; i < count; i++) {
        const id = hashed ? hashed.ids[i] : impressions?.[i]?.id;
        predictions[i] = id === undefined ? { ctr: ctrs[i] ?? Number.NaN } : { id, ctr: ctrs[i] ?? Number.NaN };
      }
      // Queued synchronously, written later by the log's own connection: never awaited here.
      predictionLog?.record(loggedModel(model), predictions, ctrs);
      metrics.predictions.inc(count);
      metrics.batchSize.observe(count);
      const body: PredictResponse = { model: model.name, version: model.version, predictions };
      reply.send(body);
      if (impressions) shadow?.afterAnswer(impressions);
      return reply;
    },
  );
}

/** 401 with `WWW-Authenticate: Bearer` unless the request carries a configured token. */
function bearerCheck(
  verify: (authorization: string | undefined) => boolean,
  errors: ErrorReplies,
): onRequestHookHandler {
  return (request, reply, done) => {
    if (verify(request.headers.authorization)) return done();
    reply.header('www-authenticate', 'Bearer');
    errors.send(reply, 401, InferenceErrorCode.UNAUTHORIZED, 'missing or invalid bearer token');
  };
}
