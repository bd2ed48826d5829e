import { rollOutVersion } from '../pipeline/rollout-stage.js';
import { reconcileIfIdle } from '../reconcile.js';
import { formatStatus, readStatus } from '../status.js';
import { defineCommand, ExitCode, flagOption, integerOption, writeLine } from './command.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'champion, previous champion, recent versions with gate outcomes',
  description: `Shows the champion, the previous champion and the most recent versions with their gate
outcome, promotion state and holdout metrics. When no run holds the lock, it first settles what
faults left behind: runs stuck RUNNING become KILLED, versions stuck promotion=pending become
aborted, or, when one is the champion, it is rolled out again (ROLLOUT_MODE) and becomes
promoted. Reads MLflow only; DATABASE_URL (the run lock) is needed for settling leftovers, not
for the table.`,
  options: {
    json: flagOption('machine-readable output'),
    limit: integerOption('N', 'how many recent versions (default 10)', { min: 1, max: 1000 }),
  },
  logTo: 'stderr',
  databaseOptional: true,
  async run(ctx, options) {
    const { modelName, experimentName } = ctx.config.mlflow;
    // Settled first (when no run holds the lock), so the table below shows the settled state.
    const leftovers = await reconcileIfIdle(
      ctx.mlflow,
      ctx.config.databaseUrl,
      { modelName, experimentName },
      'the status command',
      ctx.logger,
      (version) =>
        rollOutVersion(
          { config: ctx.config.rollout, kubeConfig: ctx.io.kubeConfig, logger: ctx.logger, signal: ctx.signal },
          version,
        ),
    );
    const status = { ...(await readStatus(ctx.mlflow, modelName, options.limit ?? 10)), leftovers };
    writeLine(ctx.io.stdout, options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return ExitCode.OK;
  },
});
