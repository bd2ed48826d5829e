import type { Logger } from '@fallback-ctr/runtime';
import type { ClicklogTarget } from '../target.js';
import type { SyntheticTrafficOptionsInput } from './options.js';

export interface GenerateTrafficOptions extends ClicklogTarget, SyntheticTrafficOptionsInput {
  /** Also write the true click probabilities into the `truth` table (default true). */
  writeTruth?: boolean;
  /** Empty the log tables of the schema first (default false: append). */
  replace?: boolean;
  logger?: Logger;
}

export interface GenerateTrafficResult {
  schema: string;
  impressions: number;
  clicks: number;
  /** Mean true click probability. */
  meanTrueCtr: number;
  /** Clicks / impressions (clicks at any delay). */
  observedCtr: number;
  from: Date;
  to: Date;
  elapsedMs: number;
}

/**
 * Generates synthetic traffic and writes impressions, clicks (and truth) with COPY in ONE transaction.
 * Migrates the schema first when needed.
 */
export async function generateTraffic(_options: GenerateTrafficOptions): Promise<GenerateTrafficResult> {
  throw new Error('not implemented yet');
}
