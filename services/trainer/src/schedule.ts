import type { Logger } from '@fallback-ctr/runtime';
import { createTask } from 'node-cron';

export interface ScheduleOptions {
  cron: string;
  timeZone: string;
  /** One run; gets a signal that aborts when the schedule stops. Errors are logged, never thrown. */
  job: (signal: AbortSignal) => Promise<unknown>;
  logger: Logger;
}

export interface TrainerSchedule {
  /** The next time the job is due, or null. */
  nextRun(): Date | null;
  /** True while a run is in flight. */
  busy(): boolean;
  /** Stops scheduling, aborts a run in flight and waits for it to end. */
  stop(): Promise<void>;
}

/**
 * Runs `job` on a cron schedule in a time zone, never two at once: a tick that falls while a run is
 * still going is skipped (and logged), not queued. Logs the next run time at start and after each run.
 */
export function startSchedule(options: ScheduleOptions): TrainerSchedule {
  const { logger } = options;
  const controller = new AbortController();
  let inFlight: Promise<void> | undefined;

  const runOnce = async (): Promise<void> => {
    if (inFlight || controller.signal.aborted) {
      logger.warn('previous run still in progress: skipping this tick');
      return;
    }
    const started = Date.now();
    logger.info('scheduled run starting');
    inFlight = options
      .job(controller.signal)
      .then(
        (result) => logger.info({ result, elapsedMs: Date.now() - started }, 'scheduled run finished'),
        (error: unknown) => logger.error({ err: error, elapsedMs: Date.now() - started }, 'scheduled run failed'),
      )
      .finally(() => {
        inFlight = undefined;
        if (!controller.signal.aborted)
          logger.info({ nextRun: task.getNextRun()?.toISOString() }, 'next run scheduled');
      });
    await inFlight;
  };

  const task = createTask(options.cron, runOnce, {
    timezone: options.timeZone,
    noOverlap: true,
    name: 'fallback-ctr-trainer',
    // node-cron's own messages go to debug; the overlap event below is logged at warn in our format.
    logger: {
      info: (m) => logger.debug({ source: 'node-cron' }, m),
      warn: (m) => logger.debug({ source: 'node-cron' }, m),
      error: (m, err) => logger.error({ source: 'node-cron', err: err ?? m }, String(m)),
      debug: (m) => logger.debug({ source: 'node-cron' }, String(m)),
    },
  });
  task.on('execution:overlap', () => logger.warn('previous run still in progress: skipping this tick'));
  void task.start();
  logger.info(
    { cron: options.cron, timeZone: options.timeZone, nextRun: task.getNextRun()?.toISOString() },
    'schedule started',
  );

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    controller.abort(new Error('schedule stopped'));
    await task.stop();
    await task.destroy();
    if (inFlight) {
      logger.info('waiting for the run in progress to stop');
      await inFlight;
    }
    logger.info('schedule stopped');
  };

  return {
    nextRun: () => task.getNextRun(),
    busy: () => inFlight !== undefined,
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
