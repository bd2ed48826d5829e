import type { FeatureSpec } from '@fallback-ctr/model';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { InferenceErrorCode } from './errors.js';
import type { ModelHolder } from './model-holder.js';

/**
 * The OpenAPI document and the `/docs` page: real request and response examples (each one what the
 * server answers to it, a test checks), named responses, the bearer scheme only when tokens are
 * configured, and the fields and context keys of the model this process serves, read from its artifact.
 */
export interface DocsOptions {
  holder: ModelHolder;
  authRequired: boolean;
  maxBatchSize: number;
}

export const EXAMPLE_PREDICT_REQUEST = {
  impressions: [
    {
      id: 'imp-1',
      slot_id: 'slot-3',
      placement: 'feed',
      ad_id: 'ad-1042',
      campaign_id: 'cmp-77',
      advertiser_id: 'adv-9',
      device_type: 'mobile',
      os: 'android',
      country: 'DE',
      context: { hour_of_day: 21, user_age_days: 340, page_views: 4, site_category: 'news' },
    },
    { id: 'imp-2', ad_id: 'ad-88', device_type: 'desktop' },
  ],
};

export const EXAMPLE_PREDICT_RESPONSE = {
  model: 'fallback-ctr',
  version: '7',
  predictions: [
    { id: 'imp-1', ctr: 0.02341 },
    { id: 'imp-2', ctr: 0.00912 },
  ],
};

/** Bad requests and what the server answers to each (test/openapi-docs.test.ts sends them and compares). */
export const EXAMPLE_ERRORS = {
  badField: {
    request: { impressions: [{ id: 'imp-1', device_type: 3 }] },
    response: {
      statusCode: 400,
      code: InferenceErrorCode.INVALID_REQUEST,
      error: 'Bad Request',
      message: 'invalid request body: /impressions/0/device_type must be string',
      issues: [{ path: '/impressions/0/device_type', message: 'must be string' }],
    },
  },
  notReady: {
    statusCode: 503,
    code: InferenceErrorCode.NOT_READY,
    error: 'Service Unavailable',
    message: 'model not loaded yet',
  },
  unauthorized: {
    statusCode: 401,
    code: InferenceErrorCode.UNAUTHORIZED,
    error: 'Unauthorized',
    message: 'missing or invalid bearer token',
  },
  tooLarge: {
    statusCode: 413,
    code: InferenceErrorCode.INVALID_REQUEST,
    error: 'Payload Too Large',
    message: 'Request body is too large (FST_ERR_CTP_BODY_TOO_LARGE)',
  },
  wrongType: {
    statusCode: 415,
    code: InferenceErrorCode.INVALID_REQUEST,
    error: 'Unsupported Media Type',
    message: 'Unsupported Media Type (FST_ERR_CTP_INVALID_MEDIA_TYPE)',
  },
} as const;

/** What each status means on this API, and an example body. */
const RESPONSES: Record<string, { description: string; example?: unknown }> = {
  '200': { description: 'OK' },
  '400': {
    description: 'Invalid request: `issues` names every wrong field',
    example: EXAMPLE_ERRORS.badField.response,
  },
  '401': { description: 'Missing or wrong bearer token', example: EXAMPLE_ERRORS.unauthorized },
  '413': { description: 'Request body too large', example: EXAMPLE_ERRORS.tooLarge },
  '415': { description: 'Body is not JSON', example: EXAMPLE_ERRORS.wrongType },
  '503': {
    description: 'No model loaded yet, or draining: retry on another replica',
    example: EXAMPLE_ERRORS.notReady,
  },
};

const ROUTE_RESPONSE_NAMES: Record<string, Record<string, { description: string; example?: unknown }>> = {
  '/predict': { '200': { description: 'One CTR per impression, in request order', example: EXAMPLE_PREDICT_RESPONSE } },
  '/healthz': { '200': { description: 'The process is alive', example: { status: 'ok' } } },
  '/readyz': {
    '200': { description: 'Ready: the model is loaded', example: { ready: true, model: 'fallback-ctr', version: '7' } },
    '503': {
      description: 'Not ready: loading the model, or draining',
      example: { ready: false, reason: 'model not loaded yet' },
    },
  },
  '/model': { '200': { description: 'The model this process serves' } },
  '/metrics': { '200': { description: 'Prometheus text exposition' } },
};

type JsonObject = Record<string, unknown>;

/** Adds names and examples to a route's response schemas, and the request example to POST /predict. */
function describeRoute(url: string, schema: JsonObject | undefined): JsonObject | undefined {
  if (!schema) return schema;
  const responses = (schema.response ?? {}) as Record<string, JsonObject>;
  const named: Record<string, JsonObject> = {};
  for (const [status, body] of Object.entries(responses)) {
    const meta = ROUTE_RESPONSE_NAMES[url]?.[status] ?? RESPONSES[status];
    named[status] = {
      ...body,
      ...(meta ? { description: meta.description } : {}),
      ...(meta?.example === undefined ? {} : { example: meta.example }),
    };
  }
  const out: JsonObject = { ...schema, response: named };
  if (url === '/predict' && schema.body)
    out.body = { ...(schema.body as JsonObject), example: EXAMPLE_PREDICT_REQUEST };
  if (url === '/metrics' && !schema.response) {
    out.response = { '200': { description: 'Prometheus text exposition', type: 'string' } };
  }
  return out;
}

/** The serving model's inputs, as a Markdown section of the API description. */
export function modelInputsMarkdown(name: string, version: string, spec: FeatureSpec): string {
  const columns = spec.fields.filter((f) => f.source === 'column');
  const context = spec.fields.filter((f) => f.source === 'context');
  const kind = (f: FeatureSpec['fields'][number]) =>
    f.kind === 'categorical' ? 'categorical (any string or number)' : `numeric (${f.kind})`;
  const rows = (fields: typeof columns, prefix: string) => fields.map((f) => `| \`${prefix}${f.name}\` | ${kind(f)} |`);
  const crosses = spec.crosses.map((c) => c.fields.join(' × ')).join(', ');
  return [
    `### What the serving model reads: ${name} version ${version}`,
    '',
    'Every field is optional: a missing one is scored as "missing". Other keys are ignored.',
    '',
    '| field | kind |',
    '|---|---|',
    ...rows(columns, ''),
    ...rows(context, 'context.'),
    '',
    crosses ? `Crosses: ${crosses}.` : 'No crosses.',
  ].join('\n');
}

const BASE_DESCRIPTION =
  'CTR predictions for the ad server fallback path, from the MLflow `champion` model. ' +
  'Errors carry a stable `code` (see the troubleshooting table in the README).';

/** Registers `/docs` (Swagger UI) and `/docs/json`; the page describes the model loaded at the time. */
export async function registerDocs(app: FastifyInstance, options: DocsOptions): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'fallback-ctr inference API', version: '1', description: BASE_DESCRIPTION },
      ...(options.authRequired
        ? { components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } }
        : {}),
    },
    transform: ({ schema, url }) => ({ schema: describeRoute(url, schema as JsonObject | undefined) as never, url }),
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { defaultModelsExpandDepth: 0, tryItOutEnabled: false },
    // Per request: the model may load after the first visit.
    transformSpecification: (spec) => {
      const model = options.holder.get();
      const info = (spec as { info: JsonObject }).info;
      info.description = model
        ? `${BASE_DESCRIPTION}\n\n${modelInputsMarkdown(model.name, model.version, model.artifact.featureSpec)}`
        : `${BASE_DESCRIPTION}\n\nNo model is loaded yet: the fields the model reads appear here once it is.`;
      return spec;
    },
  });
}
