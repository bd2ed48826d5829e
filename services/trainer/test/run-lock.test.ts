import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { capturingLogger } from '../../../test/support/json-lines.js';
import { TrainerErrorCode } from '../src/errors.js';
import { acquireRunLock } from '../src/run-lock.js';

const databaseUrl = process.env.DATABASE_URL!;

describe('acquireRunLock (real Postgres)', () => {
  it('excludes a second holder until the first releases', async () => {
    const key = `test-${randomUUID()}`;
    const first = await acquireRunLock({ databaseUrl, key });
    expect(first).not.toBeNull();
    expect(await acquireRunLock({ databaseUrl, key })).toBeNull();
    const other = await acquireRunLock({ databaseUrl, key: `${key}-other` });
    expect(other).not.toBeNull();
    await other?.release();
    await first?.release();
    await first?.release();
    const again = await acquireRunLock({ databaseUrl, key });
    expect(again).not.toBeNull();
    await again?.release();
  });

  it('waits for the holder when asked to', async () => {
    const key = `test-${randomUUID()}`;
    const first = await acquireRunLock({ databaseUrl, key });
    let released = false;
    setTimeout(() => {
      released = true;
      void first?.release();
    }, 150);
    const second = await acquireRunLock({ databaseUrl, key, waitMs: 5_000, pollMs: 50 });
    expect(second).not.toBeNull();
    expect(released).toBe(true);
    await second?.release();
  });
});

describe('a PostgreSQL that cannot be reached', () => {
  it('is TRAINER_DATABASE_UNREACHABLE naming the address (never the password), not a lock "lost" that was never held', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { logger, lines } = capturingLogger('debug');
    const attempt = acquireRunLock({
      databaseUrl: `postgres://trainer:s3cret@127.0.0.1:${port}/clicks`,
      key: 'k',
      logger,
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(error?.code).toBe(TrainerErrorCode.DATABASE_UNREACHABLE);
    expect(error?.message).toContain(`127.0.0.1:${port}/clicks (DATABASE_URL)`);
    expect(error?.message).not.toContain('s3cret');
    expect(JSON.stringify(lines)).not.toMatch(/lock lost|LOCK_LOST/);
  });
});

/** Ends the Postgres session that holds `key`'s advisory lock, as a dropped connection or a server restart would. */
async function terminateHolder(key: string): Promise<number> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pg_terminate_backend(l.pid), l.pid FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`,
      [key],
    );
    return rows.length;
  } finally {
    await admin.end();
  }
}

describe('a lost run lock (real Postgres, its session terminated)', () => {
  it('is noticed at once: the lock signal aborts with TRAINER_LOCK_LOST and assertHeld throws it', async () => {
    const key = `test-${randomUUID()}`;
    const lock = await acquireRunLock({ databaseUrl, key, heartbeatMs: 60_000 });
    expect(lock).not.toBeNull();
    await lock!.assertHeld();
    expect(lock!.signal.aborted).toBe(false);
    expect(await terminateHolder(key)).toBe(1);
    await vi.waitFor(() => expect(lock!.signal.aborted).toBe(true), { timeout: 30_000, interval: 20 });
    expect(lock!.signal.reason).toMatchObject({ code: TrainerErrorCode.LOCK_LOST });
    await expect(lock!.assertHeld()).rejects.toMatchObject({ code: TrainerErrorCode.LOCK_LOST });
    // Someone else can take it now; releasing the lost one neither throws nor takes theirs away.
    const other = await acquireRunLock({ databaseUrl, key });
    expect(other).not.toBeNull();
    await expect(lock!.release()).resolves.toBeUndefined();
    await other!.assertHeld();
    await other!.release();
  });

  it('assertHeld fails when the session is gone even before any event arrived', async () => {
    const key = `test-${randomUUID()}`;
    const lock = await acquireRunLock({ databaseUrl, key, heartbeatMs: 60_000 });
    await terminateHolder(key);
    await expect(lock!.assertHeld()).rejects.toMatchObject({ code: TrainerErrorCode.LOCK_LOST });
    await lock!.release();
  });
});

/** A loopback TCP proxy to PostgreSQL that can hold the server's answers back, as a busy server would. */
async function startStallingProxy(target: string) {
  const upstream = new URL(target);
  let stalled = false;
  const held: (() => void)[] = [];
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port), upstream.hostname);
    client.pipe(backend);
    backend.on('data', (chunk: Buffer) => {
      if (stalled) held.push(() => client.write(chunk));
      else client.write(chunk);
    });
    const close = () => {
      client.destroy();
      backend.destroy();
    };
    client.on('error', close).on('close', close);
    backend.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const write of held.splice(0)) write();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a slow lock check (real Postgres behind a proxy that holds its answers back)', () => {
  it('is not a lost lock: the heartbeat lets a late answer be, and the lock still holds after', async () => {
    const proxy = await startStallingProxy(databaseUrl);
    const key = `test-${randomUUID()}`;
    const { logger, lines } = capturingLogger('warn');
    const lock = await acquireRunLock({ databaseUrl: proxy.url, key, heartbeatMs: 50, queryTimeoutMs: 200, logger });
    expect(lock).not.toBeNull();
    proxy.stall();
    // Several checks in a row go unanswered in time (the demo's embedded PGlite busy with a long read).
    const slow = () => lines.filter((l) => String(l.msg).startsWith('the run lock check is slow')).length;
    await vi.waitFor(() => expect(lock!.signal.aborted || slow() >= 3).toBe(true), { timeout: 20_000, interval: 20 });
    expect(lock!.signal.aborted, String(lock!.signal.reason)).toBe(false);
    expect(lines.filter((l) => l.msg === 'run lock lost')).toEqual([]);
    proxy.resume();
    await lock!.assertHeld();
    expect(lock!.signal.aborted).toBe(false);
    // Still exclusive.
    expect(await acquireRunLock({ databaseUrl, key })).toBeNull();
    await lock!.release();
    await proxy.close();
  });
});
