import type { Logger } from '@fallback-ctr/runtime';
import type { ClicklogTarget } from './target.js';

export interface MigrateOptions extends ClicklogTarget {
  logger?: Logger;
}

export interface MigrateResult {
  schema: string;
  /** Names of the migrations applied by this call, in order (empty when already up to date). */
  applied: string[];
  /** Name of the latest migration now in the schema. */
  current: string;
}

/**
 * Creates the schema if needed and applies every pending migration, each in its own transaction,
 * under a per-schema advisory lock (concurrent callers wait, then find nothing to do). Idempotent.
 */
export async function migrate(_options: MigrateOptions): Promise<MigrateResult> {
  throw new Error('not implemented yet');
}

/** Drops the schema and everything in it (test clean-up). No error when it does not exist. */
export async function dropSchema(_target: ClicklogTarget): Promise<void> {
  throw new Error('not implemented yet');
}
