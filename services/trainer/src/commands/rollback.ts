import { TrainerErrorCode } from '../errors.js';
import { rollbackChampion } from '../rollback.js';
import { defineCommand, ExitCode, textOption } from './command.js';

export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'move "champion" back and roll the inference Deployment out',
  description: `Moves the "champion" alias to version N (default: the "previous-champion" alias), gives the
replaced version "previous-champion", verifies the target's artifact, and rolls the inference
Deployment out (ROLLOUT_MODE). Takes the run lock. A newer N rolls forward (logged ROLLED_FORWARD;
the replaced version becomes superseded, not rolled-back). Exit 2 when N does not exist or is the
champion already; 1 when its artifact would not load (nothing moves).`,
  options: {
    'to-version': textOption('N', 'the version to serve', {
      pattern: /^[1-9][0-9]*$/,
      expected: 'a version number such as 3',
    }),
  },
  logTo: 'stdout',
  // A version that does not exist or is already the champion: one line, exit 2.
  exitCodes: { [TrainerErrorCode.ROLLBACK_TARGET_INVALID]: ExitCode.USAGE },
  async run(ctx, options) {
    const result = await rollbackChampion(
      { config: ctx.config, mlflow: ctx.mlflow, logger: ctx.logger, kubeConfig: ctx.io.kubeConfig, signal: ctx.signal },
      options['to-version'],
    );
    const outcome = result.direction === 'back' ? 'ROLLED_BACK' : 'ROLLED_FORWARD';
    ctx.logger.info(
      { outcome, ...result },
      `${outcome}: champion is version ${result.to} (was ${result.from ?? 'none'})`,
    );
    return ExitCode.OK;
  },
});
