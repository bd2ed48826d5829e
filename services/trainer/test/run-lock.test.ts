import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
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
