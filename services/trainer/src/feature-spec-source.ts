import { readFileSync } from 'node:fs';
import { defaultFeatureSpec, type FeatureSpec, parseFeatureSpec } from '@fallback-ctr/model';
import { errorMessage } from '@fallback-ctr/runtime';
import { TrainerError, TrainerErrorCode } from './errors.js';

/**
 * The feature spec from FEATURE_SPEC: JSON text when it starts with "{", else a path to a JSON
 * file; libs/model's default spec when unset. Validated by libs/model's schema.
 */
export function resolveFeatureSpec(source: string | undefined): FeatureSpec {
  if (source === undefined || source.trim() === '') return defaultFeatureSpec;
  const trimmed = source.trim();
  const fromFile = !trimmed.startsWith('{');
  let text = trimmed;
  if (fromFile) {
    try {
      text = readFileSync(trimmed, 'utf8');
    } catch (error) {
      throw new TrainerError(
        TrainerErrorCode.FEATURE_SPEC_INVALID,
        `FEATURE_SPEC names a file that cannot be read (${trimmed}): ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrainerError(
      TrainerErrorCode.FEATURE_SPEC_INVALID,
      `FEATURE_SPEC ${fromFile ? `file ${trimmed}` : 'text'} is not valid JSON: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  try {
    return parseFeatureSpec(json);
  } catch (error) {
    throw new TrainerError(
      TrainerErrorCode.FEATURE_SPEC_INVALID,
      `FEATURE_SPEC ${fromFile ? `file ${trimmed}` : 'text'} is not a valid feature spec: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}
