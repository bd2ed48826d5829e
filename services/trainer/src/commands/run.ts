import { TrainerErrorCode } from '../errors.js';
import { defineCommand, ExitCode } from './command.js';
import { describeOutcome, trainOnce } from './train-once.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'one training run (for a Kubernetes CronJob)',
  description: `One training run, what a Kubernetes CronJob runs: load the window → train → evaluate
candidate and champion on the same holdout → promotion gate → publish to MLflow → (PASS only)
move "champion" → roll out. Exits 0 on PASS, on a clean gate FAIL, when another run holds the lock
and when the data checks skip the run (nothing to train on); non-zero on errors. The last log line
carries \`outcome\`: PROMOTED, CHALLENGER (PROMOTE_VIA=challenger), REJECTED, SKIPPED or ERROR.`,
  options: {},
  logTo: 'stdout',
  exitCodes: { [TrainerErrorCode.ROLLOUT_FAILED]: ExitCode.ROLLOUT_FAILED },
  async run(ctx) {
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
    return ExitCode.OK;
  },
});
