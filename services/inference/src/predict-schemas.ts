import { RAW_COLUMNS, type RawColumn, RawImpressionSchema } from '@fallback-ctr/model';
import { z } from 'zod';
import { PREDICT_LIMITS } from './predict-limits.js';

const limitedString = () => z.string().max(PREDICT_LIMITS.maxStringLength);

const limitedColumns = Object.fromEntries(RAW_COLUMNS.map((column) => [column, limitedString().optional()])) as {
  [K in RawColumn]: z.ZodOptional<z.ZodString>;
};

const LimitedContextSchema = z
  .record(
    z.string().max(PREDICT_LIMITS.maxContextKeyLength),
    z.union([limitedString(), z.number(), z.boolean(), z.null()]),
  )
  .refine((context) => Object.keys(context).length <= PREDICT_LIMITS.maxContextKeys, {
    message: `at most ${PREDICT_LIMITS.maxContextKeys} context keys`,
  })
  .meta({ maxProperties: PREDICT_LIMITS.maxContextKeys });

/**
 * One impression to score: the shared raw-impression shape plus an optional `id` echoed back.
 * Follows the feature spec's rule: every field is optional (a missing field is featurised as
 * that field's "missing" value) and unknown top-level keys are accepted and ignored. Sizes are
 * bounded (PREDICT_LIMITS) so no body within the byte limit costs more to reject than to serve.
 */
export const PredictImpressionSchema = RawImpressionSchema.extend({
  ...limitedColumns,
  context: LimitedContextSchema.optional(),
  id: z
    .string()
    .max(PREDICT_LIMITS.maxIdLength)
    .optional()
    .describe(
      "The ad server's impression id: echoed in the prediction at the same position, and the key of the prediction log.",
    ),
})
  .refine((impression) => Object.keys(impression).length <= PREDICT_LIMITS.maxImpressionKeys, {
    message: `at most ${PREDICT_LIMITS.maxImpressionKeys} keys per impression`,
  })
  .meta({ maxProperties: PREDICT_LIMITS.maxImpressionKeys });
export type PredictImpression = z.infer<typeof PredictImpressionSchema>;

export function predictRequestSchema(maxBatchSize: number) {
  return z.object({
    impressions: z
      .array(PredictImpressionSchema)
      .min(1)
      .max(maxBatchSize)
      .describe(`1..${maxBatchSize} impressions, scored in order.`),
  });
}
export type PredictRequest = z.infer<ReturnType<typeof predictRequestSchema>>;

export const PredictionSchema = z.object({
  id: z.string().optional(),
  ctr: z.number().describe('Predicted click-through probability in (0, 1).'),
});

export const PredictResponseSchema = z.object({
  model: z.string().describe('Registered model name.'),
  version: z.string().describe('Registered model version that produced these predictions.'),
  predictions: z.array(PredictionSchema).describe('One per impression, in request order.'),
});
export type PredictResponse = z.infer<typeof PredictResponseSchema>;

export const ErrorIssueSchema = z.object({
  path: z.string().describe('JSON pointer of the wrong field, e.g. /impressions/3/context/hour_of_day.'),
  message: z.string(),
});

export const ErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  code: z.string().describe('Stable error code, e.g. INFERENCE_INVALID_REQUEST.'),
  error: z.string(),
  message: z.string(),
  issues: z.array(ErrorIssueSchema).optional(),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export const HealthResponseSchema = z.object({ status: z.string() });

export const ReadyResponseSchema = z.object({
  ready: z.boolean(),
  reason: z.string().optional(),
  model: z.string().optional(),
  version: z.string().optional(),
});

export const ModelInfoResponseSchema = z.object({
  name: z.string(),
  version: z.string(),
  resolvedFrom: z.string().describe('"alias:<name>" or "pinned".'),
  runId: z.string(),
  formatVersion: z.number(),
  sha256: z.string(),
  loadedAt: z.string().describe('ISO-8601 time the artifact was verified and loaded.'),
  featureSpec: z.unknown(),
  trainingMetrics: z.record(z.string(), z.number()),
  trainingMetadata: z.unknown(),
});
export type ModelInfoResponse = z.infer<typeof ModelInfoResponseSchema>;

/** A zod schema as JSON Schema (draft-07) for Fastify's Ajv validator and fast-json-stringify. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', io, unrepresentable: 'any' });
  return rest;
}

/** The error body as a response schema, shared by every route that answers errors. */
export const ERROR_RESPONSE = jsonSchema(ErrorResponseSchema, 'output');
