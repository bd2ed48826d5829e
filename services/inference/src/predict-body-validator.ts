import { Ajv } from 'ajv';
import { checkPredictLimits, MAX_ISSUES, type ValidationIssue } from './predict-limits.js';
import { jsonSchema, PredictImpressionSchema, predictRequestSchema } from './predict-schemas.js';

/** A Fastify body validator: true, or false with the issues in `errors` (Fastify reads them there). */
export interface PredictBodyValidator {
  (body: unknown): boolean;
  errors: ValidationIssue[] | null;
}

const AJV_OPTIONS = {
  coerceTypes: false,
  removeAdditional: false,
  allowUnionTypes: true,
  strict: false,
} as const;

/**
 * The validator of POST /predict bodies, compiled from the same zod schemas as the OpenAPI document.
 * Cheapest first: the size limits (checkPredictLimits), then a validator that stops at the first
 * fault (all a valid body pays). Only a body that fails is walked again, impression by impression,
 * to name up to MAX_ISSUES wrong fields; the walk stops there, so a body with a million wrong
 * fields costs no more than one with twenty.
 */
export function compilePredictBodyValidator(maxBatchSize: number): PredictBodyValidator {
  const firstFault = new Ajv({ ...AJV_OPTIONS, allErrors: false }).compile(
    jsonSchema(predictRequestSchema(maxBatchSize), 'input'),
  );
  const impressionFaults = new Ajv({ ...AJV_OPTIONS, allErrors: true }).compile(
    jsonSchema(PredictImpressionSchema, 'input'),
  );

  const validate = ((body: unknown): boolean => {
    validate.errors = null;
    const limit = checkPredictLimits(body, maxBatchSize);
    if (limit) {
      validate.errors = [limit];
      return false;
    }
    if (firstFault(body)) return true;
    const issues: ValidationIssue[] = [];
    const impressions = (body as { impressions: unknown[] }).impressions;
    for (let i = 0; i < impressions.length && issues.length <= MAX_ISSUES; i++) {
      if (impressionFaults(impressions[i])) continue;
      for (const fault of impressionFaults.errors ?? []) {
        issues.push({ ...fault, instancePath: `/impressions/${i}${fault.instancePath}` });
      }
    }
    validate.errors = issues.length > 0 ? issues : ((firstFault.errors ?? []) as ValidationIssue[]);
    return false;
  }) as PredictBodyValidator;
  validate.errors = null;
  return validate;
}
