import { parseOrThrow } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { ModelError, ModelErrorCode } from './errors.js';
import { RAW_COLUMNS } from './raw-impression.js';

/** Version of the feature-spec document and of the featurisation algorithm it implies. */
export const FEATURE_SPEC_VERSION = 1;

const FieldNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/,
    'a field name is 1-64 characters of [A-Za-z0-9_.-], not starting with a digit',
  );

const FieldBase = {
  /** Unique name of the feature; also the key it is read from (a column name or a context key). */
  name: FieldNameSchema,
  /** Where the value is read from: a top-level column of the impression or its `context` map. */
  source: z.enum(['column', 'context']),
};

/** Categorical: the value itself (strings as is, numbers in JS decimal form, booleans as "true"/"false") is hashed. */
export const CategoricalFieldSchema = z.object({ ...FieldBase, kind: z.literal('categorical') });

/** Numeric, heavy-tailed: bucket = floor(scale · log1p(max(x, 0))), the bucket number is hashed. */
export const Log1pFieldSchema = z.object({
  ...FieldBase,
  kind: z.literal('log1p'),
  /** Buckets per unit of log1p(x); 1 gives ~e-fold buckets, 2 gives ~√e-fold ones. */
  scale: z.number().positive().max(1000).default(1),
});

/**
 * Numeric with explicit boundaries (strictly increasing): bucket = number of boundaries ≤ x, so
 * bucket 0 is x < b[0], bucket i is b[i-1] ≤ x < b[i], bucket n is x ≥ b[n-1].
 */
export const BucketsFieldSchema = z.object({
  ...FieldBase,
  kind: z.literal('buckets'),
  boundaries: z
    .array(z.number())
    .min(1)
    .max(1024)
    .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), 'boundaries must be strictly increasing'),
});

export const FieldSpecSchema = z.discriminatedUnion('kind', [
  CategoricalFieldSchema,
  Log1pFieldSchema,
  BucketsFieldSchema,
]);
export type FieldSpec = z.infer<typeof FieldSpecSchema>;

/** A cross of two or more fields (by name): one hashed feature per impression for the combination of their values. */
export const CrossSpecSchema = z.object({
  fields: z.array(FieldNameSchema).min(2).max(8),
});
export type CrossSpec = z.infer<typeof CrossSpecSchema>;

/**
 * The feature spec: a versioned JSON document saved inside every model artifact, so serving applies
 * exactly the transform the model was trained with.
 *
 * Missing/unknown values: a field that is absent, null, "" (or, for a numeric field, not a finite number
 * nor a string that parses as one) takes the value "missing", which is hashed like any other value (as the
 * empty byte string under the field's seed). Every field and cross therefore yields exactly one index per
 * impression. Keys that no field names are ignored.
 */
export const FeatureSpecSchema = z
  .object({
    version: z.literal(FEATURE_SPEC_VERSION),
    /** The hash space has 2^hashBits buckets. */
    hashBits: z.number().int().min(4).max(26),
    /** Seed of the field hashes (uint32); changing it re-draws every collision. */
    hashSeed: z.number().int().min(0).max(0xffffffff).default(0),
    fields: z.array(FieldSpecSchema).min(1).max(256),
    crosses: z.array(CrossSpecSchema).max(256).default([]),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    for (const [i, f] of spec.fields.entries()) {
      if (names.has(f.name)) {
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `duplicate field name "${f.name}"` });
      }
      names.add(f.name);
      if (f.source === 'column' && !(RAW_COLUMNS as readonly string[]).includes(f.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'name'],
          message: `"${f.name}" is not a column (columns: ${RAW_COLUMNS.join(', ')}); use source "context"`,
        });
      }
    }
    for (const [i, c] of spec.crosses.entries()) {
      for (const [j, n] of c.fields.entries()) {
        if (!names.has(n)) {
          ctx.addIssue({ code: 'custom', path: ['crosses', i, 'fields', j], message: `unknown field "${n}"` });
        }
      }
      if (new Set(c.fields).size !== c.fields.length) {
        ctx.addIssue({ code: 'custom', path: ['crosses', i, 'fields'], message: 'a cross names a field twice' });
      }
    }
  });
export type FeatureSpec = z.infer<typeof FeatureSpecSchema>;
/** The spec as written by hand (defaults not yet applied). */
export type FeatureSpecInput = z.input<typeof FeatureSpecSchema>;

/** Validates a feature spec, throwing ModelError(MODEL_FEATURE_SPEC_INVALID) that lists every problem. */
export function parseFeatureSpec(input: unknown): FeatureSpec {
  return parseOrThrow(FeatureSpecSchema, input, (issues, cause) => {
    return new ModelError(ModelErrorCode.FEATURE_SPEC_INVALID, `Invalid feature spec:\n${issues}`, { cause });
  });
}
