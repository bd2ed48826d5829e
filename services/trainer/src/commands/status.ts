import { formatStatus, readStatus } from '../status.js';
import { defineCommand, ExitCode, flagOption, integerOption, writeLine } from './command.js';

export const statusCommand = defineCommand({
  name: 'status',
  summary: 'champion, previous champion, recent versions with gate outcomes',
  description: `Shows the champion, the previous champion and the most recent versions with their gate
outcome, promotion state and holdout metrics.`,
  options: {
    json: flagOption('machine-readable output'),
    limit: integerOption('N', 'how many recent versions (default 10)', { min: 1, max: 1000 }),
  },
  logTo: 'stderr',
  async run(ctx, options) {
    const status = await readStatus(ctx.mlflow, ctx.config.mlflow.modelName, options.limit ?? 10);
    writeLine(ctx.io.stdout, options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return ExitCode.OK;
  },
});
