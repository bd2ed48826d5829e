import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@fallback-ctr/runtime';
import { MlflowError, type MlflowErrorCode } from './errors.js';
import { isRetryable, type Transport } from './transport.js';

/** Tag set on runs and model versions so that a retried create finds the first attempt's result. */
export const CREATE_REQUEST_TAG = 'fallback_ctr.create_request_id';

/**
 * Runs a non-idempotent create at most once per outcome: after a failure that leaves it unknown
 * whether the server acted (a timeout, a reset connection, a 5xx), it first looks for what the
 * earlier attempt may have created (by a request token the caller put in the create) and
 * returns that; only when nothing is found does it try again.
 */
export async function createOnce<T>(
  transport: Transport,
  steps: { create: () => Promise<T>; findExisting: () => Promise<T | undefined> },
): Promise<T> {
  const policy = transport.options.retry;
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await steps.create();
    } catch (error) {
      const delayMs = backoffDelay(attempt, policy);
      const outOfBudget = attempt >= policy.maxAttempts || Date.now() + delayMs > deadline;
      if (!isRetryable(error, 'idempotent') || outOfBudget) {
        if (error instanceof MlflowError && attempt > 1) {
          throw error.withContext(`${error.message} (gave up after ${attempt} attempts)`, { attempts: attempt });
        }
        throw error;
      }
      transport.logger?.warn(
        { attempt, delayMs, err: (error as Error).message },
        'mlflow create failed, checking before retrying',
      );
      await sleep(delayMs);
      // A refused connection or a 429 means the server did nothing: no need to look.
      if (isRetryable(error, 'unprocessed')) continue;
      let existing: T | undefined;
      try {
        existing = await steps.findExisting();
      } catch (lookupError) {
        if (!(error instanceof MlflowError) || !(lookupError instanceof MlflowError)) throw lookupError;
        throw error.withContext(
          `${error.message}; whether it was created is unknown, because checking failed too: ${lookupError.message}`,
          { code: lookupError.code as MlflowErrorCode, attempts: attempt, cause: lookupError },
        );
      }
      if (existing !== undefined) return existing;
    }
  }
}
