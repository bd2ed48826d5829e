import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import pg from 'pg';
import { requireDatabaseUrl, type TrainerConfig } from './config.js';
import { TrainerError, TrainerErrorCode } from './errors.js';

export interface RunLock {
  readonly key: string;
  /**
   * Aborted, with a TRAINER_LOCK_LOST error as its reason, as soon as the lock's session is found
   * gone (connection error or end, or a failed heartbeat): from then on another run may hold it.
   */
  readonly signal: AbortSignal;
  /** Asks PostgreSQL whether this session still holds the lock; throws TRAINER_LOCK_LOST if not. */
  assertHeld(): Promise<void>;
  /** Unlocks and closes the lock's connection (idempotent). Never throws: a lost lock is already free. */
  release(): Promise<void>;
}

export interface AcquireRunLockOptions {
  databaseUrl: string;
  /** Runs with the same key exclude each other; the trainer uses one key per registered model. */
  key: string;
  /** How long to keep trying while another holder has it; 0 = one attempt. */
  waitMs?: number;
  pollMs?: number;
  /** How often the held lock is checked (a connection that died silently shows up no later). */
  heartbeatMs?: number;
  /** How long one query on the lock's connection may take before it counts as unanswered. */
  queryTimeoutMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

const LOCK_KEY_SQL = 'hashtextextended($1, 0)';
/** pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits). */
const HELD_SQL = `SELECT EXISTS (
  SELECT 1 FROM pg_locks
   WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
     AND ((classid::bigint << 32) | objid::bigint) = ${LOCK_KEY_SQL}
) AS held`;

/**
 * Takes a session-level Postgres advisory lock on its own connection. Returns null when another
 * session holds it for longer than `waitMs`. If the process dies, Postgres drops the session and
 * with it the lock, so a crashed run never blocks the next one. If the session is lost while the
 * process lives on, `signal` aborts: the holder must stop before it changes anything shared.
 */
export async function acquireRunLock(options: AcquireRunLockOptions): Promise<RunLock | null> {
  const { key, waitMs = 0, pollMs = 1_000, heartbeatMs = 5_000, queryTimeoutMs = 15_000, logger, signal } = options;
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: 'fallback-ctr-trainer-lock',
    keepAlive: true,
    query_timeout: queryTimeoutMs,
  });
  const lost = new AbortController();
  let held = false;
  let released = false;
  const markLost = (cause: unknown) => {
    // Before the lock is held there is nothing to lose: a failed connect is reported as unreachable.
    if (!held || released || lost.signal.aborted) return;
    const reason = errorMessage(cause);
    const error = new TrainerError(
      TrainerErrorCode.LOCK_LOST,
      `the run lock "${key}" was lost (its PostgreSQL session ended: ${reason}); another run may hold it now, so this one stops before it changes the registry`,
      { cause },
    );
    logger?.error({ err: error, lockKey: key }, 'run lock lost');
    lost.abort(error);
  };
  client.on('error', markLost);
  client.on('end', () => markLost(new Error('the connection closed')));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new TrainerError(
      TrainerErrorCode.DATABASE_UNREACHABLE,
      `cannot reach PostgreSQL at ${databaseAddress(options.databaseUrl)} (DATABASE_URL) to take the run lock of "${key}"; nothing was started`,
      { cause: error },
    );
  }
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(${LOCK_KEY_SQL}) AS locked`,
        [key],
      );
      if (rows[0]?.locked) {
        held = true;
        break;
      }
      if (Date.now() + pollMs > deadline || signal?.aborted) {
        released = true;
        await client.end();
        return null;
      }
      logger?.info({ lockKey: key }, 'another trainer run holds the lock; waiting');
      await sleep(pollMs, undefined, signal ? { signal } : undefined).catch(() => undefined);
    }
  } catch (error) {
    released = true;
    await client.end().catch(() => undefined);
    throw error;
  }

  async function assertHeld(): Promise<void> {
    if (lost.signal.aborted) throw lost.signal.reason;
    let held = false;
    try {
      const { rows } = await client.query<{ held: boolean }>(HELD_SQL, [key]);
      held = rows[0]?.held === true;
    } catch (error) {
      markLost(error);
    }
    if (!held) markLost(new Error('PostgreSQL no longer lists it for this session'));
    if (lost.signal.aborted) throw lost.signal.reason;
  }

  /**
   * The background check. An answer that is only late does not end the session: a busy server
   * (the demo's embedded PGlite answers one query at a time, behind the run's own reads) answers
   * later, and the connection's 'error' and 'end' events report a session that really ended. So a
   * timed-out beat is let go, and the next beat is not queued behind it. assertHeld, which the run
   * calls before it changes anything shared, still counts an unanswered check as lost.
   */
  let beating = false;
  async function beat(): Promise<void> {
    if (beating || released || lost.signal.aborted) return;
    beating = true;
    try {
      const { rows } = await client.query<{ held: boolean }>(HELD_SQL, [key]);
      if (rows[0]?.held !== true) markLost(new Error('PostgreSQL no longer lists it for this session'));
    } catch (error) {
      if (isQueryTimeout(error)) logger?.warn({ lockKey: key }, 'the run lock check is slow to answer; checking again');
      else markLost(error);
    } finally {
      beating = false;
    }
  }

  const heartbeat = setInterval(() => void beat(), heartbeatMs);
  heartbeat.unref();
  return {
    key,
    signal: lost.signal,
    assertHeld,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      try {
        if (!lost.signal.aborted) await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`, [key]);
      } catch (error) {
        logger?.warn({ err: error, lockKey: key }, 'could not unlock the run lock; closing its session frees it');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** host:port/database of a connection string, never its user or password. */
function databaseAddress(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.host}${url.pathname}`;
  } catch {
    return 'the address in DATABASE_URL';
  }
}

/** node-postgres' own error when `query_timeout` passes without an answer (it has no code). */
const isQueryTimeout = (error: unknown): boolean => error instanceof Error && error.message === 'Query read timeout';

/** The lock key of a registered model's training runs. */
export const runLockKey = (modelName: string): string => `fallback-ctr-trainer:${modelName}`;

/**
 * The configured model's run lock for a command that must not move aliases beside a trainer run
 * (rollback, promote-challenger), waiting up to LOCK_WAIT_SECONDS; throws TRAINER_LOCK_UNAVAILABLE,
 * telling to retry `what`, when a run holds it.
 */
export async function holdModelLock(
  config: Pick<TrainerConfig, 'databaseUrl' | 'lockWaitMs' | 'mlflow'>,
  logger: Logger,
  what: string,
): Promise<RunLock> {
  const { modelName } = config.mlflow;
  const lock = await acquireRunLock({
    databaseUrl: requireDatabaseUrl(config),
    key: runLockKey(modelName),
    waitMs: config.lockWaitMs,
    logger,
  });
  if (!lock) {
    throw new TrainerError(
      TrainerErrorCode.LOCK_UNAVAILABLE,
      `a trainer run of ${modelName} is in progress; retry ${what} when it ends (or set LOCK_WAIT_SECONDS)`,
    );
  }
  return lock;
}
