import { readFileSync } from 'node:fs';
import { defaultFeatureSpec, type FeatureSpec, FeatureSpecSchema } from '@fallback-ctr/model';
import { errorMessage } from '@fallback-ctr/runtime';
import { TrainerError, TrainerErrorCode } from './errors.js';

type Reading = { spec: FeatureSpec } | { problem: string; expected: string; cause?: unknown };

/** Reads FEATURE_SPEC without throwing: the spec, or what is wrong in words (`expected`: what it should be). */
function readFeatureSpec(source: string | undefined): Reading {
  if (source === undefined || source.trim() === '') return { spec: defaultFeatureSpec };
  const trimmed = source.trim();
  const fromFile = !trimmed.startsWith('{');
  const what = fromFile ? `file ${trimmed}` : 'text';
  let text = trimmed;
  if (fromFile) {
    try {
      text = readFileSync(trimmed, 'utf8');
    } catch (error) {
      return {
        problem: `FEATURE_SPEC names a file that cannot be read (${trimmed}): ${errorMessage(error)}`,
        expected: `JSON text or a readable JSON file (${errorMessage(error)})`,
        cause: error,
      };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      problem: `FEATURE_SPEC ${what} is not valid JSON: ${errorMessage(error)}`,
      expected: `valid JSON (${errorMessage(error)})`,
      cause: error,
    };
  }
  const parsed = FeatureSpecSchema.safeParse(json);
  if (parsed.success) return { spec: parsed.data };
  // One line: "hashBits: expected number, received undefined; fields.0.kind: …".
  const issues = parsed.error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(the spec)'}: ${i.message.replace(/^Invalid input: /, '')}`)
    .join('; ');
  return {
    problem: `FEATURE_SPEC ${what} is not a valid feature spec: ${issues}`,
    expected: `a valid feature spec (${issues})`,
    cause: parsed.error,
  };
}

/**
 * The feature spec from FEATURE_SPEC: JSON text when it starts with "{", else a path to a JSON
 * file; libs/model's default spec when unset. Validated by libs/model's schema.
 */
export function resolveFeatureSpec(source: string | undefined): FeatureSpec {
  const reading = readFeatureSpec(source);
  if ('spec' in reading) return reading.spec;
  throw new TrainerError(TrainerErrorCode.FEATURE_SPEC_INVALID, reading.problem, { cause: reading.cause });
}

/** What FEATURE_SPEC should be, when it is not a usable feature spec (for the configuration error); else undefined. */
export function featureSpecProblem(source: string | undefined): string | undefined {
  const reading = readFeatureSpec(source);
  return 'spec' in reading ? undefined : reading.expected;
}
