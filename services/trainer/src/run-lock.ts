import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@fallback-ctr/runtime';
import pg from 'pg';

export interface RunLock {
  readonly key: string;
  /** Unlocks and closes the lock's connection (idempotent). */
  release(): Promise<void>;
}

export interface AcquireRunLockOptions {
  databaseUrl: string;
  /** Runs with the same key exclude each other; the trainer uses one key per registered model. */
  key: string;
  /** How long to keep trying while another holder has it; 0 = one attempt. */
  waitMs?: number;
  pollMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

/**
 * Takes a session-level Postgres advisory lock on its own connection. Returns null when another
 * session holds it for longer than `waitMs`. If the process dies, Postgres drops the session and
 * with it the lock, so a crashed run never blocks the next one.
 */
export async function acquireRunLock(options: AcquireRunLockOptions): Promise<RunLock | null> {
  const { key, waitMs = 0, pollMs = 1_000, logger, signal } = options;
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: 'fallback-ctr-trainer-lock',
  });
  // A lost lock connection means the lock is gone; it is logged, and the run's own writes are guarded by MLflow state.
  client.on('error', (error) => logger?.error({ err: error, lockKey: key }, 'run-lock connection failed'));
  await client.connect();
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [key],
      );
      if (rows[0]?.locked) break;
      if (Date.now() + pollMs > deadline || signal?.aborted) {
        await client.end();
        return null;
      }
      logger?.info({ lockKey: key }, 'another trainer run holds the lock; waiting');
      await sleep(pollMs, undefined, signal ? { signal } : undefined).catch(() => undefined);
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  return {
    key,
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** The lock key of a registered model's training runs. */
export const runLockKey = (modelName: string): string => `fallback-ctr-trainer:${modelName}`;
