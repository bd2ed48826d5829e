import type { MlflowClient } from '@fallback-ctr/mlflow';
import { VersionTag } from '@fallback-ctr/model';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TrainerConfig } from './config.js';
import { TrainerError, TrainerErrorCode } from './errors.js';
import { moveChallenger, readChallenger, rollOutChallenger } from './pipeline/challenger-stage.js';
import { promoteVersion, readAliases, tagPromotion } from './pipeline/promote.js';
import { type RolloutContext, rollOutPromotion } from './pipeline/rollout-stage.js';
import { loadVersion } from './registry.js';
import { holdModelLock } from './run-lock.js';
import { decideShadowPromotion, type ShadowDecision, type ShadowEvidence } from './shadow-decision.js';
import { type LabelledScore, pairShadowScores, shadowEvidence } from './shadow-evidence.js';

/** What the prediction log is asked for: one model's labelled scores logged in [from, to). */
export interface ScoresQuery {
  modelName: string;
  from: Date;
  to: Date;
  attributionWindowMinutes: number;
}

export interface ChallengerPromotionDeps {
  config: TrainerConfig;
  mlflow: MlflowClient;
  logger: Logger;
  kubeConfig: () => KubeConfig;
  /** The prediction log's reader (labelled as training rows are). */
  readScores: (query: ScoresQuery) => Promise<LabelledScore[]>;
  signal?: AbortSignal;
  /** "Now" (default: the system clock): only impressions a whole attribution window older are read. */
  clock?: () => Date;
}

export type ChallengerPromotionResult =
  | { outcome: 'NOTHING_TO_DO'; reason: string }
  | {
      outcome: 'PROMOTED' | 'REFUSED' | 'WAITING';
      champion: string;
      challenger: string;
      decision: ShadowDecision;
      evidence: ShadowEvidence;
    };

const round = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(5))) : 'NaN');

/** The `shadow.*` version tags: the outcome, why, and the live figures it rests on. */
function shadowTags(decision: ShadowDecision, evidence: ShadowEvidence, checkedAt: Date): Record<string, string> {
  const hours =
    evidence.firstAt && evidence.lastAt ? (evidence.lastAt.getTime() - evidence.firstAt.getTime()) / 3_600_000 : 0;
  return {
    [VersionTag.SHADOW_OUTCOME]: decision.outcome,
    [VersionTag.SHADOW_REASONS]: decision.reasons.join('; ').slice(0, 4_000),
    [VersionTag.shadow('checked_at')]: checkedAt.toISOString(),
    [VersionTag.shadow('champion_version')]: evidence.champion.version,
    [VersionTag.shadow('impressions')]: String(evidence.impressions),
    [VersionTag.shadow('clicks')]: String(evidence.clicks),
    [VersionTag.shadow('hours')]: round(hours),
    [VersionTag.shadow('logloss_diff')]: round(evidence.difference.logloss.value),
    [VersionTag.shadow('logloss_diff_se')]: round(evidence.difference.logloss.se),
    [VersionTag.shadow('logloss')]: round(evidence.challenger.metrics.logloss.value),
    [VersionTag.shadow('champion_logloss')]: round(evidence.champion.metrics.logloss.value),
    [VersionTag.shadow('calibration')]: round(evidence.challenger.metrics.calibration.value),
    [VersionTag.shadow('calibration_se')]: round(evidence.challenger.metrics.calibration.se),
    [VersionTag.shadow('champion_calibration')]: round(evidence.champion.metrics.calibration.value),
  };
}

/**
 * `promote-challenger`: compares the challenger's shadow scores with the champion's on the same live
 * impressions (those whose attribution window has closed) and acts on the decision, under the run lock:
 * - PROMOTE: the challenger's artifact is verified as a pod would, then it becomes champion the way a
 *   training run promotes (previous-champion, rollout, restore on failure) and `challenger` is removed;
 * - REFUSE: `challenger` is removed (pods stop shadowing it after the rollout) and the version is
 *   tagged `promotion=refused`;
 * - WAIT: nothing moves.
 * Every outcome is recorded on the challenger's version as `shadow.*` tags.
 */
export async function promoteChallenger(deps: ChallengerPromotionDeps): Promise<ChallengerPromotionResult> {
  const { config, mlflow, logger } = deps;
  const modelName = config.mlflow.modelName;
  const lock = await holdModelLock(config, logger, 'promote-challenger');
  try {
    const [aliases, challenger] = await Promise.all([
      readAliases(mlflow, modelName),
      readChallenger(mlflow, modelName),
    ]);
    if (challenger === null) return { outcome: 'NOTHING_TO_DO', reason: `${modelName} has no "challenger" alias` };
    if (aliases.champion === null) {
      return {
        outcome: 'NOTHING_TO_DO',
        reason: `${modelName} has no champion to compare challenger v${challenger} with`,
      };
    }
    if (aliases.champion === challenger) {
      await moveChallenger(mlflow, modelName, null, logger);
      return { outcome: 'NOTHING_TO_DO', reason: `challenger v${challenger} is already the champion; alias removed` };
    }
    const now = (deps.clock ?? (() => new Date()))();
    const attributionMs = config.window.attributionWindowMinutes * 60_000;
    const to = config.challenger.windowEnd ?? new Date(now.getTime() - attributionMs);
    const from = new Date(to.getTime() - config.challenger.windowHours * 3_600_000);
    const versions = { champion: aliases.champion, challenger };
    const rows = await deps.readScores({
      modelName,
      from,
      to,
      attributionWindowMinutes: config.window.attributionWindowMinutes,
    });
    const evidence = shadowEvidence(pairShadowScores(rows, versions), versions);
    const decision = decideShadowPromotion(evidence, config.challenger);
    logger.info(
      { ...versions, shadow: decision.outcome, reasons: decision.reasons, impressions: evidence.impressions },
      'shadow comparison decided',
    );
    for (const [key, value] of Object.entries(shadowTags(decision, evidence, now))) {
      await mlflow.setModelVersionTag(modelName, challenger, key, value);
    }
    const result = { champion: aliases.champion, challenger, decision, evidence };
    const rolloutCtx: RolloutContext = {
      config: config.rollout,
      kubeConfig: deps.kubeConfig,
      logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
    };
    const by = `promote-challenger (${decision.reasons.join('; ')})`.slice(0, 4_000);
    if (decision.outcome === 'WAIT') return { outcome: 'WAITING', ...result };
    if (decision.outcome === 'REFUSE') {
      await lock.assertHeld();
      await moveChallenger(mlflow, modelName, null, logger);
      await tagPromotion(mlflow, modelName, challenger, 'refused', by);
      await rollOutChallenger(rolloutCtx, config.challenger.annotationKey, null, { wait: true });
      return { outcome: 'REFUSED', ...result };
    }
    try {
      await loadVersion(mlflow, modelName, challenger);
    } catch (error) {
      throw new TrainerError(
        TrainerErrorCode.PUBLISH_FAILED,
        `challenger v${challenger} was no worse live, but inference would refuse its artifact, so champion stays v${aliases.champion}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    await lock.assertHeld();
    const before = await promoteVersion(mlflow, modelName, challenger, logger, aliases);
    await moveChallenger(mlflow, modelName, null, logger);
    try {
      // Both annotations change in the pod template; the one rollout waited for covers both.
      await rollOutChallenger(rolloutCtx, config.challenger.annotationKey, null, { wait: false });
      await rollOutPromotion(rolloutCtx, mlflow, { modelName, version: challenger, before });
    } catch (error) {
      // rollOutPromotion put champion back; the challenger goes back to being scored in shadow.
      await moveChallenger(mlflow, modelName, challenger, logger).catch(() => undefined);
      throw error;
    }
    await tagPromotion(mlflow, modelName, challenger, 'promoted', by).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not tag the promoted challenger'),
    );
    return { outcome: 'PROMOTED', ...result };
  } finally {
    await lock.release();
  }
}
