export { ClicklogError, ClicklogErrorCode } from './errors.js';
export {
  type GenerateTrafficOptions,
  type GenerateTrafficResult,
  generateTraffic,
} from './generator/generate-traffic.js';
export {
  CardinalitySchema,
  type Degrade,
  DegradeSchema,
  type Shift,
  ShiftSchema,
  SYNTHETIC_CONTEXT_FIELDS,
  SYNTHETIC_FIELDS,
  type SyntheticField,
  type SyntheticTrafficOptions,
  type SyntheticTrafficOptionsInput,
  SyntheticTrafficOptionsSchema,
} from './generator/options.js';
export { type SyntheticImpression, syntheticImpressions } from './generator/synthetic-impressions.js';
export { TRUE_INTERACTIONS, TRUE_NUMERIC_EFFECTS, type TrueInteraction } from './generator/true-interactions.js';
export { type BadRow, INLINE_BAD_ROWS } from './import/bad-rows.js';
export { type ImportLogOptions, type ImportProgress, type ImportResult, importLog } from './import/import-log.js';
export {
  IMPORT_FORMATS,
  type ImportFormat,
  type ImportMapping,
  type ImportMappingInput,
  ImportMappingSchema,
} from './import/import-mapping.js';
export { progressLine } from './import/import-progress.js';
export { dropSchema, type MigrateOptions, type MigrateResult, migrate } from './migrate.js';
export {
  keepsNegative,
  type NegativeSampling,
  NegativeSamplingSchema,
  negativeDraw,
  type ReadStats,
  type ReadTrainingRowsOptions,
  ReadTrainingRowsOptionsSchema,
  readTrainingRows,
  type TrainingRowStream,
} from './read-training-rows.js';
export {
  type Holdout,
  HoldoutSchema,
  type SplitPart,
  type SplitTrainingWindowOptions,
  SplitTrainingWindowOptionsSchema,
  splitTrainingWindow,
  type TrainingSplit,
} from './split-training-window.js';
export { type ClicklogTarget, DEFAULT_SCHEMA, SchemaNameSchema } from './target.js';
export type { TimeWindow, TrainingBatch, TrainingRow } from './training-row.js';
export {
  type DelayQuantiles,
  type ProfiledField,
  ProfiledFieldSchema,
  type ProfileWindowOptions,
  ProfileWindowOptionsSchema,
  profileWindow,
  type SliceCount,
  type WindowProfile,
} from './window-profile.js';
export {
  type ClickRecord,
  type ImpressionRecord,
  type WriteOptions,
  writeClicks,
  writeImpressions,
} from './write-log.js';
