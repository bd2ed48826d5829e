import { splitTrainingWindow, type TrainingSplit } from '@fallback-ctr/clicklog';
import type { Logger } from '@fallback-ctr/runtime';
import type pg from 'pg';
import type { TrainerConfig } from '../config.js';

export interface WindowBounds {
  from: Date;
  to: Date;
  /** The "now" for the label-delay rule; undefined = the database's now(). */
  now: Date | undefined;
}

/**
 * The training window: TRAIN_WINDOW_HOURS ending at TRAIN_WINDOW_END (a replay: labels as they
 * stood one attribution window after it) or at now (the reader then drops impressions younger
 * than the attribution window, whose clicks may still be on their way).
 */
export function windowBounds(window: TrainerConfig['window'], clock: () => Date = () => new Date()): WindowBounds {
  const end = window.end ?? clock();
  const from = new Date(end.getTime() - window.trainWindowHours * 3_600_000);
  const now = window.end ? new Date(end.getTime() + window.attributionWindowMinutes * 60_000) : undefined;
  return { from, to: end, now };
}

/**
 * Stage 1 — load: split the window by time into the training part and the most recent holdout slice;
 * with TRAIN_NEGATIVE_SAMPLING_RATE < 1 the training part's reads leave non-clicks out in the database.
 */
export async function loadWindow(
  config: Pick<TrainerConfig, 'clicklogSchema' | 'window'> & {
    ftrl?: Pick<TrainerConfig['ftrl'], 'negativeSamplingRate'>;
  },
  db: pg.Pool,
  logger: Logger,
  bounds: WindowBounds = windowBounds(config.window),
): Promise<TrainingSplit> {
  return splitTrainingWindow({
    db,
    schema: config.clicklogSchema,
    from: bounds.from,
    to: bounds.to,
    ...(bounds.now ? { now: bounds.now } : {}),
    attributionWindowMinutes: config.window.attributionWindowMinutes,
    holdout: { minutes: config.window.holdoutHours * 60 },
    ...(config.ftrl && config.ftrl.negativeSamplingRate < 1
      ? { trainNegativeSampling: { rate: config.ftrl.negativeSamplingRate } }
      : {}),
    batchSize: 5_000,
    logger,
  });
}
