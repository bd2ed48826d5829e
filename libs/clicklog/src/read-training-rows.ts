import type { Logger } from '@fallback-ctr/runtime';
import { z } from 'zod';
import type { ClicklogTarget } from './target.js';
import type { TrainingRow } from './training-row.js';

export const ReadTrainingRowsOptionsSchema = z.object({
  /** Inclusive start of the window (served_at >= from). */
  from: z.date(),
  /** Exclusive end of the window (served_at < to). */
  to: z.date(),
  /** A click counts when clicked_at - served_at is in [0, this many minutes]. */
  attributionWindowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  /**
   * The read's "now" for the label-delay rule: impressions served after now - attribution window
   * are excluded, and clicks after now are not seen. Default: the database's now().
   */
  now: z.date().optional(),
  /** Join the synthetic truth table and set `trueCtr` on each row. */
  includeTrueCtr: z.boolean().default(false),
  /** Rows fetched per round trip by the server-side cursor. */
  batchSize: z.number().int().min(1).max(100_000).default(2_000),
  /** When false (default) a window without eligible rows throws CLICKLOG_EMPTY_WINDOW. */
  allowEmpty: z.boolean().default(false),
});

export interface ReadTrainingRowsOptions extends ClicklogTarget, z.input<typeof ReadTrainingRowsOptionsSchema> {
  signal?: AbortSignal;
  logger?: Logger;
}

/** Filled in while the stream is consumed; final once iteration ends. */
export interface ReadStats {
  /** The "now" the label-delay rule used (injected or the database's). */
  now: Date | null;
  /** Impressions served at or before this instant were eligible (now - attribution window). */
  labelCutoff: Date | null;
  rows: number;
  positives: number;
}

export interface TrainingRowStream extends AsyncIterable<TrainingRow> {
  readonly stats: ReadStats;
}

/**
 * Streams labelled rows of [from, to) in served_at order through a server-side cursor with
 * backpressure: memory does not grow with the number of rows. Read-only (SELECT only).
 */
export function readTrainingRows(_options: ReadTrainingRowsOptions): TrainingRowStream {
  throw new Error('not implemented yet');
}
