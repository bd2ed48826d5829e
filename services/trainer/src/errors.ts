import { type ErrorCodeOf, PackageError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/trainer. The README's troubleshooting section lists them. */
export const TrainerErrorCode = {
  FEATURE_SPEC_INVALID: 'TRAINER_FEATURE_SPEC_INVALID',
  NOT_ENOUGH_DATA: 'TRAINER_NOT_ENOUGH_DATA',
  DATA_COVERAGE: 'TRAINER_DATA_COVERAGE',
  LOCK_UNAVAILABLE: 'TRAINER_LOCK_UNAVAILABLE',
  /** PostgreSQL (DATABASE_URL) could not be reached to take the run lock: nothing was started. */
  DATABASE_UNREACHABLE: 'TRAINER_DATABASE_UNREACHABLE',
  /** The run lock's PostgreSQL session ended while the run held it: the run stops before changing the registry. */
  LOCK_LOST: 'TRAINER_LOCK_LOST',
  /** Tag of a run found RUNNING by a later run (its process ended without finishing it); the run is marked KILLED. */
  RUN_ABANDONED: 'TRAINER_RUN_ABANDONED',
  PUBLISH_FAILED: 'TRAINER_PUBLISH_FAILED',
  /** An alias move failed and reading the aliases back failed too: the champion may or may not have moved. */
  ALIAS_STATE_UNKNOWN: 'TRAINER_ALIAS_STATE_UNKNOWN',
  ROLLOUT_FAILED: 'TRAINER_ROLLOUT_FAILED',
  ROLLOUT_TIMEOUT: 'TRAINER_ROLLOUT_TIMEOUT',
  KUBERNETES_API: 'TRAINER_KUBERNETES_API',
  /** A wrong argument: no such version, already the champion, or no previous-champion to go back to (exit 2). */
  ROLLBACK_TARGET_INVALID: 'TRAINER_ROLLBACK_TARGET_INVALID',
  /** The target exists but its artifact would be refused by the pods (checksum, format, tag): nothing moved. */
  ROLLBACK_TARGET_REFUSED: 'TRAINER_ROLLBACK_TARGET_REFUSED',
  /** `monitor`: the champion's live calibration stayed outside the guard's band for GUARD_HOURS hours (exit 4). */
  GUARD_ALARM: 'TRAINER_GUARD_ALARM',
  /** `monitor`: reading the prediction log or the click logs failed (connection, permissions, missing tables). */
  MONITOR_READ_FAILED: 'TRAINER_MONITOR_READ_FAILED',
} as const;
export type TrainerErrorCode = ErrorCodeOf<typeof TrainerErrorCode>;

export class TrainerError extends PackageError<TrainerErrorCode> {}
