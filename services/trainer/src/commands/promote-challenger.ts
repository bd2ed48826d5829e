import { readLabelledPredictions } from '@fallback-ctr/prediction-log';
import { promoteChallenger } from '../challenger-promotion.js';
import { requireDatabaseUrl } from '../config.js';
import { TrainerErrorCode } from '../errors.js';
import { defineCommand, ExitCode } from './command.js';
import { openDatabasePool } from './database-pool.js';

export const promoteChallengerCommand = defineCommand({
  name: 'promote-challenger',
  summary: 'promote the shadow challenger if its live metrics are no worse; refuse it if worse',
  description: `Compares the "challenger" (scored in shadow by pods with SHADOW_ALIAS=challenger and the
prediction log on) with the champion on the same logged impressions whose attribution window has
closed: paired logloss difference and calibration, each with its standard error. Until
SHADOW_MIN_HOURS, SHADOW_MIN_IMPRESSIONS and SHADOW_MIN_CLICKS are reached the outcome is WAITING
and nothing moves; then PROMOTED (the challenger becomes champion as a run promotes, is rolled out,
and the alias "challenger" goes) or REFUSED (the alias goes, the version is tagged
promotion=refused, the pods are rolled to stop scoring it). Each decision is written on the
challenger's version as shadow.* tags. NOTHING_TO_DO without a challenger. Takes the run lock; exit 0
on every outcome (the last log line's \`outcome\` says which).`,
  options: {},
  logTo: 'stdout',
  exitCodes: { [TrainerErrorCode.ROLLOUT_FAILED]: ExitCode.ROLLOUT_FAILED },
  async run(ctx) {
    const { config, logger } = ctx;
    const db = openDatabasePool(requireDatabaseUrl(config), 'fallback-ctr-promote-challenger', logger);
    try {
      const result = await promoteChallenger({
        config,
        mlflow: ctx.mlflow,
        logger,
        kubeConfig: ctx.io.kubeConfig,
        signal: ctx.signal,
        readScores: (query) => readLabelledPredictions({ db, schema: config.clicklogSchema, ...query }),
      });
      if (result.outcome === 'NOTHING_TO_DO') {
        logger.info({ outcome: result.outcome }, `NOTHING_TO_DO: ${result.reason}`);
        return ExitCode.OK;
      }
      const { champion, challenger, decision, evidence } = result;
      const summary =
        result.outcome === 'PROMOTED'
          ? `challenger v${challenger} is now champion (was v${champion})`
          : result.outcome === 'REFUSED'
            ? `challenger v${challenger} refused, champion stays v${champion}`
            : `challenger v${challenger} keeps running in shadow beside champion v${champion}`;
      logger.info(
        {
          outcome: result.outcome,
          champion,
          challenger,
          impressions: evidence.impressions,
          clicks: evidence.clicks,
          reasons: decision.reasons,
        },
        `${result.outcome}: ${summary}: ${decision.reasons.join('; ')}`,
      );
      return ExitCode.OK;
    } finally {
      await db.end();
    }
  },
});
