import { rollbackChampion } from '../rollback.js';
import { defineCommand, ExitCode, textOption } from './command.js';

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'move "champion" back and roll the inference Deployment out',
  description: `Moves the "champion" alias to version N (default: the "previous-champion" alias), gives the
replaced version "previous-champion", verifies the target's artifact, and rolls the inference
Deployment out (ROLLOUT_MODE). Takes the run lock.`,
  options: {
    'to-version': textOption('N', 'the version to serve', {
      pattern: /^[1-9][0-9]*$/,
      expected: 'a version number such as 3',
    }),
  },
  logTo: 'stdout',
  async run(ctx, options) {
    const result = await rollbackChampion(
      { config: ctx.config, mlflow: ctx.mlflow, logger: ctx.logger, kubeConfig: ctx.io.kubeConfig, signal: ctx.signal },
      options['to-version'],
    );
    ctx.logger.info({ outcome: 'ROLLED_BACK', ...result }, `rollback done: champion is version ${result.to}`);
    return ExitCode.OK;
  },
});
