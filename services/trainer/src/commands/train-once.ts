import { runFeatureInsight } from '../analyze/index.js';
import { requireDatabaseUrl } from '../config.js';
import { type AfterPublishContext, type RunOutcome, runTraining } from '../pipeline/run-training.js';
import type { CommandContext } from './command.js';
import { openDatabasePool } from './database-pool.js';

/** One training run with its own pool (and the feature-insight step when ANALYZE_ON_RUN is set). */
export async function trainOnce(ctx: CommandContext, signal: AbortSignal): Promise<RunOutcome> {
  const db = openDatabasePool(requireDatabaseUrl(ctx.config), 'fallback-ctr-trainer', ctx.logger);
  try {
    return await runTraining({
      config: ctx.config,
      mlflow: ctx.mlflow,
      db,
      logger: ctx.logger,
      kubeConfig: ctx.io.kubeConfig,
      signal,
      ...(ctx.analyze.onRun
        ? {
            afterPublish: async (step: AfterPublishContext) => {
              await runFeatureInsight({
                split: step.split,
                spec: step.featureSpec,
                training: step.training,
                options: ctx.analyze.options,
                logger: step.logger,
                mlflow: { client: ctx.mlflow, runId: step.runId },
                signal: step.signal,
              });
            },
          }
        : {}),
    });
  } finally {
    await db.end();
  }
}

export function describeOutcome(o: RunOutcome): string {
  switch (o.status) {
    case 'PROMOTED':
      return `outcome PROMOTED: version ${o.version} is champion (replaced ${o.previousChampion ?? 'none'})`;
    case 'CHALLENGER':
      return `outcome CHALLENGER: version ${o.version} is the challenger, scored in shadow beside champion ${o.champion ?? 'none'} until promote-challenger decides (replaced challenger ${o.previousChallenger ?? 'none'})`;
    case 'REJECTED':
      return `outcome REJECTED: version ${o.version} failed the gate (${o.decision.reasons.join('; ')}); champion stays ${o.champion ?? 'none'}`;
    default:
      return `outcome SKIPPED: ${o.reason}`;
  }
}
