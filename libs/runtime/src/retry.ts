import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, RetryError, RuntimeErrorCode } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  /** Delay before the second attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Cap on one delay. Default 10 s. */
  maxDelayMs?: number;
  /** Growth of the delay per attempt. Default 2. */
  factor?: number;
  /** Share of each delay that is randomised, 0..1. Default 0.5 (half fixed, half random). */
  jitter?: number;
  /** Overall budget in ms from the first attempt; no attempt starts after it. */
  deadlineMs?: number;
  /** Stops waiting and retrying when aborted. */
  signal?: AbortSignal;
  /** Which errors are worth another attempt. Default: all. A non-retryable error is rethrown as is. */
  retryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface AttemptContext {
  /** 1 for the first attempt. */
  attempt: number;
  signal: AbortSignal | undefined;
}

/** The delay before attempt `attempt + 1`, with exponential growth, a cap and jitter. */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter'>,
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const base = Math.min(cap, initial * factor ** (attempt - 1));
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `fn` until it resolves, retrying errors that `retryable` accepts with exponential backoff
 * and jitter, within `maxAttempts` and the overall `deadlineMs`. Throws the original error when it
 * is not retryable, RetryError when attempts or time run out, AbortedError when `signal` aborts.
 */
export async function retry<T>(fn: (ctx: AttemptContext) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const random = options.random ?? Math.random;
  const started = Date.now();
  const deadline = options.deadlineMs === undefined ? Number.POSITIVE_INFINITY : started + options.deadlineMs;
  const { signal } = options;

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new AbortedError('retry', signal.reason);
    try {
      return await fn({ attempt, signal });
    } catch (error) {
      if (signal?.aborted) throw new AbortedError('retry', signal.reason);
      if (options.retryable && !options.retryable(error, attempt)) throw error;
      if (attempt >= maxAttempts) {
        throw new RetryError(
          RuntimeErrorCode.RETRY_EXHAUSTED,
          `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${describe(error)}`,
          attempt,
          error,
        );
      }
      const delayMs = backoffDelay(attempt, options, random);
      if (Date.now() + delayMs > deadline) {
        throw new RetryError(
          RuntimeErrorCode.RETRY_DEADLINE,
          `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${Date.now() - started} ms (deadline ${options.deadlineMs} ms): ${describe(error)}`,
          attempt,
          error,
        );
      }
      options.onRetry?.({ error, attempt, delayMs });
      try {
        await sleep(delayMs, undefined, signal ? { signal } : undefined);
      } catch (sleepError) {
        throw new AbortedError('retry', signal?.reason ?? sleepError);
      }
    }
  }
}
