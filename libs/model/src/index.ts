export {
  ARTIFACT_FILE_NAME,
  ARTIFACT_FORMAT_NAME,
  ARTIFACT_FORMAT_VERSION,
  ARTIFACT_FORMAT_VERSIONS_READ,
  type ArtifactInput,
  canonicalJson,
  type ModelArtifact,
  parseArtifact,
  type SerializedArtifact,
  serializeArtifact,
  type TrainingMetadata,
  TrainingMetadataSchema,
} from './artifact.js';
export { categoricalFields } from './categorical-fields.js';
export { defaultFeatureSpec } from './default-feature-spec.js';
export { ModelError, ModelErrorCode } from './errors.js';
export {
  type CrossSpec,
  CrossSpecSchema,
  FEATURE_SPEC_VERSION,
  type FeatureSpec,
  type FeatureSpecInput,
  FeatureSpecSchema,
  type FieldSpec,
  FieldSpecSchema,
  parseFeatureSpec,
} from './feature-spec.js';
export {
  createFeaturizer,
  crossSeed,
  type Featurizer,
  type FeaturizerOptions,
  FieldOverride,
  fieldSeed,
  rareValueHash,
} from './featurizer.js';
export { type ImpressionColumns, impressionAt } from './impression-columns.js';
export { murmur3Bytes, murmur3String, murmur3Uint32 } from './murmur3.js';
export {
  RAW_COLUMNS,
  type RawColumn,
  type RawImpression,
  RawImpressionSchema,
  type RawValue,
  RawValueSchema,
} from './raw-impression.js';
export {
  CHALLENGER_ALIAS,
  CHAMPION_ALIAS,
  DEFAULT_MAX_ARTIFACT_BYTES,
  MODEL_ARTIFACT_DIR,
  PREVIOUS_CHAMPION_ALIAS,
  VersionTag,
} from './registry-contract.js';
export { createScorer, recalibrate, type Scorer, sigmoid } from './scorer.js';
export { HashSet32, type Vocabulary, validateVocabulary } from './vocabulary.js';
