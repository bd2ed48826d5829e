import { describe, expect, it } from 'vitest';
import { AbortedError, backoffDelay, RetryError, retry } from '../src/index.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter inside the band', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 };
    expect(backoffDelay(1, options, () => 0)).toBe(50);
    expect(backoffDelay(1, options, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, options, () => 0.5)).toBe(300);
    expect(backoffDelay(10, options, () => 1)).toBe(1000);
    expect(backoffDelay(2, { ...options, jitter: 0 }, () => 0.3)).toBe(200);
  });
});

describe('retry', () => {
  const fast = { initialDelayMs: 1, maxDelayMs: 5 };

  it('returns the first success and reports each retry', async () => {
    const seen: number[] = [];
    const result = await retry(
      async ({ attempt }) => {
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { ...fast, onRetry: ({ attempt }) => seen.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2]);
  });

  it('gives up after maxAttempts with the last error as cause', async () => {
    let calls = 0;
    const error = await retry(
      async () => {
        calls++;
        throw new Error('still down');
      },
      { ...fast, maxAttempts: 4 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(error).toBeInstanceOf(RetryError);
    expect((error as RetryError).code).toBe('FCTR_RETRY_EXHAUSTED');
    expect((error as RetryError).attempts).toBe(4);
    expect((error as Error).message).toContain('still down');
    expect(((error as Error).cause as Error).message).toBe('still down');
  });

  it('rethrows a non-retryable error at once', async () => {
    let calls = 0;
    const fatal = new Error('bad request');
    const error = await retry(
      async () => {
        calls++;
        throw fatal;
      },
      { ...fast, retryable: (e) => e !== fatal },
    ).catch((e: unknown) => e);
    expect(error).toBe(fatal);
    expect(calls).toBe(1);
  });

  it('stops at the overall deadline instead of sleeping past it', async () => {
    const started = Date.now();
    const error = await retry(
      async () => {
        throw new Error('slow');
      },
      { initialDelayMs: 200, maxDelayMs: 200, jitter: 0, maxAttempts: 100, deadlineMs: 500 },
    ).catch((e: unknown) => e);
    expect((error as RetryError).code).toBe('FCTR_RETRY_DEADLINE');
    // Attempts at 0, 200 and 400 ms at most (fewer on a busy machine), never the 100 allowed.
    expect((error as RetryError).attempts).toBeGreaterThanOrEqual(2);
    expect((error as RetryError).attempts).toBeLessThanOrEqual(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('is abortable while waiting', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 20);
    const error = await retry(
      async () => {
        throw new Error('down');
      },
      { initialDelayMs: 10_000, maxAttempts: 3, signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
  });

  it('does not start when the signal is already aborted', async () => {
    let calls = 0;
    const error = await retry(
      async () => {
        calls++;
        return 1;
      },
      { signal: AbortSignal.abort() },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(calls).toBe(0);
  });
});
