/**
 * The registry contract between the trainer (which writes it) and inference (which reads it):
 * alias names, model-version tag keys and where the artifact lives inside a run.
 */

/** The serving version. */
export const CHAMPION_ALIAS = 'champion';
/** The version the champion replaced: where a rollback goes without searching. */
export const PREVIOUS_CHAMPION_ALIAS = 'previous-champion';

/**
 * A version that passed the gate in PROMOTE_VIA=challenger mode: inference pods started with
 * SHADOW_ALIAS=challenger score it in shadow until `promote-challenger` promotes or refuses it.
 */
export const CHALLENGER_ALIAS = 'challenger';

const HOLDOUT_TAG_PREFIX = 'holdout.';

/** Model-version tags written by the trainer. */
export const VersionTag = {
  GATE_OUTCOME: 'gate.outcome',
  GATE_REASONS: 'gate.reasons',
  ARTIFACT_SHA256: 'artifact.sha256',
  /** not-eligible (gate FAIL) | pending | challenger | promoted | superseded | rolled-back | refused | aborted */
  PROMOTION: 'promotion',
  /** When `promotion` last changed (RFC 3339). */
  PROMOTION_AT: 'promotion.at',
  /** Which run or command changed it, e.g. "v5 (run 1a2b…)" or "rollback to v3". */
  PROMOTION_BY: 'promotion.by',
  /** The last shadow comparison of a challenger: PROMOTE | REFUSE | WAIT (`shadow.*` tags carry the figures). */
  SHADOW_OUTCOME: 'shadow.outcome',
  /** Why, one line per failed check (or why it was promoted). */
  SHADOW_REASONS: 'shadow.reasons',
  /** `shadow.<figure>`: a live figure of the last comparison (impressions, clicks, hours, logloss_diff, ...). */
  shadow: (figure: string) => `shadow.${figure}`,
  /** `holdout.<metric>`: a holdout metric of the version (logloss, auc, ne, calibration, rows, clicks). */
  holdout: (metric: string) => `${HOLDOUT_TAG_PREFIX}${metric}`,
  /** The metric a `holdout.<metric>` tag names, or undefined for any other tag. */
  holdoutMetric: (tag: string): string | undefined =>
    tag.startsWith(HOLDOUT_TAG_PREFIX) && tag.length > HOLDOUT_TAG_PREFIX.length
      ? tag.slice(HOLDOUT_TAG_PREFIX.length)
      : undefined,
} as const;

/**
 * Largest artifact file a pod accepts by default (inference's MAX_ARTIFACT_BYTES); the trainer's
 * rollback checks its target against the same limit. A 2^24-bucket dense model is about 90 MB.
 */
export const DEFAULT_MAX_ARTIFACT_BYTES = 128 * 1024 * 1024;

/** Where the artifact lives inside a run: `<artifact_uri>/model/<ARTIFACT_FILE_NAME>`; a version's source is `<artifact_uri>/model`. */
export const MODEL_ARTIFACT_DIR = 'model';
