import { RAW_COLUMNS } from '@fallback-ctr/model';
import type { JsonShapeLimits } from './json-shape-scan.js';
import type { ValidationIssue } from './validation-issue.js';

/**
 * Size limits of a POST /predict body, beyond the byte limit and the batch size. They are checked
 * first (checkPredictBody) and cheaply, so that no body within BODY_LIMIT_BYTES costs much more
 * to reject than a valid body of the same size costs to serve.
 */
export const PREDICT_LIMITS = {
  /** Longest string value (a column or a context value), in UTF-16 code units. */
  maxStringLength: 1024,
  /** Longest caller-chosen id. */
  maxIdLength: 256,
  /** Most keys in one impression (the known fields plus any ignored ones). */
  maxImpressionKeys: 64,
  /** Most keys in one impression's `context`. */
  maxContextKeys: 64,
  /** Longest context key. */
  maxContextKeyLength: 128,
  /**
   * Most objects and arrays nested in one another. A body needs 4 (body, impressions, impression,
   * context); the rest is room for nested values under ignored keys.
   */
  maxDepth: 16,
} as const;

/**
 * The bounds the body parser checks on the raw text before JSON.parse (scanJsonShape). No object in a
 * valid body has more keys than an impression or a context may have, no array more items than a
 * batch; a batch needs 2 objects per impression (8 leave room for nested values under ignored keys)
 * and at most 2 + 64 + 64 values per impression.
 */
export function predictShapeLimits(maxBatchSize: number): JsonShapeLimits {
  const { maxDepth, maxImpressionKeys, maxContextKeys } = PREDICT_LIMITS;
  return {
    maxDepth,
    maxObjectKeys: Math.max(maxImpressionKeys, maxContextKeys),
    maxArrayItems: maxBatchSize,
    maxContainers: 8 * maxBatchSize + 16,
    maxValues: (2 + maxImpressionKeys + maxContextKeys) * maxBatchSize + 64,
  };
}

/** Enough paths to fix a request; a body with thousands of bad fields does not get thousands back. */
export const MAX_ISSUES = 20;

function issue(instancePath: string, keyword: string, message: string): ValidationIssue {
  return { keyword, instancePath, schemaPath: '#/limits', params: {}, message };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts own enumerable keys up to `stop` (a key array is never built for a huge object). */
function keyCountAbove(object: object, limit: number): boolean {
  let n = 0;
  for (const key in object) {
    if (Object.hasOwn(object, key) && ++n > limit) return true;
  }
  return false;
}

function tooLong(path: string, max: number): ValidationIssue {
  return issue(path, 'maxLength', `must NOT have more than ${max} characters`);
}

function tooManyKeys(path: string, max: number): ValidationIssue {
  return issue(path, 'maxProperties', `must NOT have more than ${max} properties`);
}

/** checkPredictBody found a value of the wrong type (and no size limit broken): the schema validator names it. */
export const WRONG_TYPE = 'wrong-type';

/**
 * The first size limit the body breaks (or the body's outer shape being wrong); else WRONG_TYPE when a
 * known field has a type the schema refuses; else undefined: the body is valid. One pass, O(size of
 * the body), with no allocation on the way, stopping at the first limit broken: it runs before the
 * schema validator, which therefore only ever sees a bounded structure, and only a body that fails
 * here. The types it checks are the schema's (predict-schemas.ts; a test holds the two to the same
 * verdicts): a known column and the id a string, the context an object of strings, numbers, booleans
 * and nulls. A size limit anywhere wins over a wrong type anywhere, as when the limits ran first alone.
 */
export function checkPredictBody(body: unknown, maxBatchSize: number): ValidationIssue | typeof WRONG_TYPE | undefined {
  if (!isPlainObject(body)) return issue('', 'type', 'must be object');
  const impressions = body.impressions;
  if (impressions === undefined) {
    return { ...issue('', 'required', 'is required'), params: { missingProperty: 'impressions' } };
  }
  if (!Array.isArray(impressions)) return issue('/impressions', 'type', 'must be array');
  if (impressions.length < 1) return issue('/impressions', 'minItems', 'must NOT have fewer than 1 items');
  if (impressions.length > maxBatchSize) {
    return issue('/impressions', 'maxItems', `must NOT have more than ${maxBatchSize} items`);
  }
  const { maxStringLength, maxIdLength, maxImpressionKeys, maxContextKeys, maxContextKeyLength } = PREDICT_LIMITS;
  let wrongType = false;
  for (let i = 0; i < impressions.length; i++) {
    const impression: unknown = impressions[i];
    if (!isPlainObject(impression)) {
      wrongType = true;
      continue;
    }
    if (keyCountAbove(impression, maxImpressionKeys)) return tooManyKeys(`/impressions/${i}`, maxImpressionKeys);
    for (const column of RAW_COLUMNS) {
      const value = impression[column];
      if (value === undefined) continue;
      if (typeof value !== 'string') wrongType = true;
      else if (value.length > maxStringLength) return tooLong(`/impressions/${i}/${column}`, maxStringLength);
    }
    const id = impression.id;
    if (id !== undefined) {
      if (typeof id !== 'string') wrongType = true;
      else if (id.length > maxIdLength) return tooLong(`/impressions/${i}/id`, maxIdLength);
    }
    const context = impression.context;
    if (context === undefined) continue;
    if (!isPlainObject(context)) {
      wrongType = true;
      continue;
    }
    if (keyCountAbove(context, maxContextKeys)) return tooManyKeys(`/impressions/${i}/context`, maxContextKeys);
    for (const key in context) {
      if (!Object.hasOwn(context, key)) continue;
      if (key.length > maxContextKeyLength) {
        return issue(
          `/impressions/${i}/context`,
          'propertyNames',
          `keys must NOT have more than ${maxContextKeyLength} characters`,
        );
      }
      const value = context[key];
      if (typeof value === 'string') {
        if (value.length > maxStringLength) {
          return tooLong(`/impressions/${i}/context/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, maxStringLength);
        }
      } else if (typeof value !== 'number' && typeof value !== 'boolean' && value !== null) wrongType = true;
    }
  }
  return wrongType ? WRONG_TYPE : undefined;
}
