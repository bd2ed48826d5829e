import { errorCode, errorMessage } from '@fallback-ctr/runtime';
import { requireDatabaseUrl } from '../config.js';
import { TrainerErrorCode } from '../errors.js';
import { type CommandContext, defineCommand, ExitCode } from './command.js';
import { monitorOnce } from './monitor.js';
import { describeOutcome, trainOnce } from './train-once.js';

/**
 * The monitor as the first step of `run` (MONITOR_ON_RUN): the champion is judged on its live traffic
 * before a candidate is measured against it. A monitor that fails is logged and does not stop training.
 */
async function monitorStep(ctx: CommandContext): Promise<'alarm' | 'ok'> {
  // A missing DATABASE_URL is a configuration error: it stops the run rather than being logged as a failed monitor.
  requireDatabaseUrl(ctx.config);
  try {
    const report = await monitorOnce(ctx);
    ctx.logger.info(
      { step: 'monitor', guard: report.guard?.state ?? null, rolledBackTo: report.rolledBack?.to ?? null },
      `monitor step: guard ${report.guard?.state ?? 'not run (no champion)'}`,
    );
    return report.guard?.state === 'alarm' ? 'alarm' : 'ok';
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    ctx.logger.error(
      { step: 'monitor', err: error, code: errorCode(error) },
      `monitor step failed: ${errorMessage(error)}`,
    );
    return 'ok';
  }
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'one training run (for a Kubernetes CronJob)',
  description: `One training run, what a Kubernetes CronJob runs: load the window → train → evaluate
candidate and champion on the same holdout → promotion gate → publish to MLflow → (PASS only)
move "champion" → roll out. Exits 0 on PASS, on a clean gate FAIL, when another run holds the lock
and when the data checks skip the run (nothing to train on); non-zero on errors. The last log line
carries \`outcome\`: PROMOTED, CHALLENGER (PROMOTE_VIA=challenger), REJECTED, SKIPPED or ERROR. With
MONITOR_ON_RUN=true the live monitor (see \`monitor\`) runs first, and a guard alarm makes the run exit 4
once it has trained.`,
  options: {},
  logTo: 'stdout',
  exitCodes: { [TrainerErrorCode.ROLLOUT_FAILED]: ExitCode.ROLLOUT_FAILED },
  async run(ctx) {
    const monitored = ctx.monitor.onRun ? await monitorStep(ctx) : 'ok';
    const outcome = await trainOnce(ctx, ctx.signal);
    const { status } = outcome;
    ctx.logger.info(
      {
        outcome: status,
        ...(status !== 'SKIPPED'
          ? { modelVersion: outcome.version, runId: outcome.runId, gate: outcome.decision.outcome }
          : outcome.runId
            ? { runId: outcome.runId }
            : {}),
      },
      describeOutcome(outcome),
    );
    return monitored === 'alarm' ? ExitCode.GUARD_ALARM : ExitCode.OK;
  },
});
