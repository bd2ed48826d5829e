import { FallbackCtrError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/trainer. The README's troubleshooting section lists them. */
export const TrainerErrorCode = {
  FEATURE_SPEC_INVALID: 'TRAINER_FEATURE_SPEC_INVALID',
  NOT_ENOUGH_DATA: 'TRAINER_NOT_ENOUGH_DATA',
  DATA_COVERAGE: 'TRAINER_DATA_COVERAGE',
  LOCK_UNAVAILABLE: 'TRAINER_LOCK_UNAVAILABLE',
  /** The run lock's PostgreSQL session ended while the run held it: the run stops before changing the registry. */
  LOCK_LOST: 'TRAINER_LOCK_LOST',
  PUBLISH_FAILED: 'TRAINER_PUBLISH_FAILED',
  ROLLOUT_FAILED: 'TRAINER_ROLLOUT_FAILED',
  ROLLOUT_TIMEOUT: 'TRAINER_ROLLOUT_TIMEOUT',
  KUBERNETES_API: 'TRAINER_KUBERNETES_API',
  ROLLBACK_TARGET_INVALID: 'TRAINER_ROLLBACK_TARGET_INVALID',
} as const;
export type TrainerErrorCode = (typeof TrainerErrorCode)[keyof typeof TrainerErrorCode];

export class TrainerError extends FallbackCtrError {
  constructor(code: TrainerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
