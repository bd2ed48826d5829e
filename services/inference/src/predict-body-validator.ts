import { Ajv } from 'ajv';
import { HashedPredictBody } from './predict-body-scan.js';
import { checkPredictBody, MAX_ISSUES, WRONG_TYPE } from './predict-limits.js';
import { jsonSchema, PredictImpressionSchema, predictRequestSchema } from './predict-schemas.js';
import type { ValidationIssue } from './validation-issue.js';

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
 * A valid body pays one pass (checkPredictBody: the size limits and the types, no allocation); Ajv
 * runs only on a body that pass finds a wrong type in: first a validator that stops at the first
 * fault (the schema has the last word), then a walk impression by impression to name up to
 * MAX_ISSUES wrong fields; the walk stops there, so a body with a million wrong fields costs no more
 * than one with twenty.
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
    // Read by the fused scan, which takes only bodies this validator passes (the differential test).
    if (body instanceof HashedPredictBody) return true;
    const found = checkPredictBody(body, maxBatchSize);
    if (found === undefined) return true;
    if (found !== WRONG_TYPE) {
      validate.errors = [found];
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
