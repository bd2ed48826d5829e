import { startSchedule } from '../schedule.js';
import { defineCommand, ExitCode, flagOption } from './command.js';
import { describeOutcome, trainOnce } from './train-once.js';

export const scheduleCommand = defineCommand({
  name: 'schedule',
  summary: 'long-lived: run on the SCHEDULE cron in SCHEDULE_TIMEZONE',
  description: `Long-lived: runs \`run\` on the cron expression SCHEDULE (default "0 3 * * *") in
SCHEDULE_TIMEZONE (default UTC) with node-cron. Never two runs at once (a tick during a run is
skipped and logged), logs the next run time, stops cleanly on SIGTERM (the run in flight is
aborted, its MLflow run marked FAILED, the lock released).`,
  options: { 'run-now': flagOption('also run once at start-up') },
  logTo: 'stdout',
  // SIGTERM is how a schedule ends.
  exitWhenStopped: ExitCode.OK,
  async run(ctx, options) {
    const job = async (signal: AbortSignal) => {
      const outcome = await trainOnce(ctx, AbortSignal.any([signal, ctx.signal]));
      ctx.logger.info({ outcome: outcome.status }, describeOutcome(outcome));
      return outcome.status;
    };
    const schedule = startSchedule({
      cron: ctx.config.schedule.cron,
      timeZone: ctx.config.schedule.timeZone,
      job,
      logger: ctx.logger,
    });
    if (options['run-now']) {
      await job(ctx.signal).catch((error: unknown) => ctx.logger.error({ err: error }, 'start-up run failed'));
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await schedule.stop();
    return ExitCode.OK;
  },
});
