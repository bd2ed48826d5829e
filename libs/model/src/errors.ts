import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/model. The README's troubleshooting section lists them. */
export const ModelErrorCode = {
  /** A feature spec failed validation (unknown field in a cross, duplicate name, bad hash bits, ...). */
  FEATURE_SPEC_INVALID: 'MODEL_FEATURE_SPEC_INVALID',
  /** The artifact is not a fallback-ctr model artifact or its content does not match the schema. */
  ARTIFACT_MALFORMED: 'MODEL_ARTIFACT_MALFORMED',
  /** The artifact declares a format version this build does not know. */
  ARTIFACT_UNSUPPORTED_VERSION: 'MODEL_ARTIFACT_UNSUPPORTED_VERSION',
  /** The sha256 recorded in the artifact does not match its payload (corrupted or edited file). */
  ARTIFACT_CHECKSUM_MISMATCH: 'MODEL_ARTIFACT_CHECKSUM_MISMATCH',
  /** serializeArtifact was given inconsistent input (weights length, non-finite values, ...). */
  ARTIFACT_INPUT_INVALID: 'MODEL_ARTIFACT_INPUT_INVALID',
  /** A vocabulary names a field the spec lacks or that is not categorical, or its hashes are not ascending. */
  VOCABULARY_INVALID: 'MODEL_VOCABULARY_INVALID',
} as const;
export type ModelErrorCode = ErrorCodeOf<typeof ModelErrorCode>;

export class ModelError extends PackageError<ModelErrorCode> {}
