import type { Logger } from '@fallback-ctr/runtime';
import { z } from 'zod';
import type { TrainingRowStream } from './read-training-rows.js';
import type { ClicklogTarget } from './target.js';

export const HoldoutSchema = z.union([
  /** The most recent `fraction` of the eligible rows (by served_at). */
  z.object({ fraction: z.number().gt(0).lt(1) }),
  /** The last `minutes` of the eligible window. */
  z.object({ minutes: z.number().positive() }),
]);
export type Holdout = z.infer<typeof HoldoutSchema>;

export const SplitTrainingWindowOptionsSchema = z.object({
  from: z.date(),
  to: z.date(),
  attributionWindowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  now: z.date().optional(),
  holdout: HoldoutSchema.default({ fraction: 0.1 }),
  includeTrueCtr: z.boolean().default(false),
  batchSize: z.number().int().min(1).max(100_000).default(2_000),
});

export interface SplitTrainingWindowOptions extends ClicklogTarget, z.input<typeof SplitTrainingWindowOptionsSchema> {
  logger?: Logger;
}

export interface SplitPart {
  /** Inclusive start. */
  from: Date;
  /** Exclusive end for train; for holdout the end of the eligible window. */
  to: Date;
  rows: number;
  positives: number;
  /** Streams this part (same now / attribution window as the split). */
  read(options?: { signal?: AbortSignal }): TrainingRowStream;
}

export interface TrainingSplit {
  now: Date;
  /** Impressions served at or before this instant are eligible (now - attribution window). */
  labelCutoff: Date;
  attributionWindowMinutes: number;
  /** Every training row is served strictly before every holdout row. */
  train: SplitPart;
  holdout: SplitPart;
}

/**
 * Splits [from, to) by time: training = everything before a cut, holdout = the most recent slice.
 * Throws CLICKLOG_EMPTY_WINDOW when either part would be empty.
 */
export async function splitTrainingWindow(_options: SplitTrainingWindowOptions): Promise<TrainingSplit> {
  throw new Error('not implemented yet');
}
