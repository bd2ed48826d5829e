import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from '../../../test/support/set-up-env.js';

export { databaseUrl };

/** A schema name of its own per test file and call, so parallel test runs never collide. */
export function uniqueSchema(tag: string): string {
  return `clicklog_t_${tag}_${randomBytes(4).toString('hex')}`;
}

export function createPool(max = 4): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl(), max });
}

export function createPoolFor(connectionString: string, max = 1): pg.Pool {
  return new pg.Pool({ connectionString, max });
}

/** Minutes after a fixed instant, so tests never depend on the clock. */
export const T0 = new Date('2020-03-02T12:00:00.000Z');
export function at(minutes: number): Date {
  return new Date(T0.getTime() + minutes * 60_000);
}
