import type { LoggedModel, PredictionLogWriter } from '@fallback-ctr/prediction-log';
import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import type { InferenceMetrics } from './metrics.js';
import type { LoadedModel, ModelHolder } from './model-holder.js';
import type { PredictImpression } from './predict-schemas.js';

/** What the shadow model said about one request: its scores, in the request's order. Never returned to the client. */
export interface ShadowScores {
  model: LoadedModel;
  impressions: readonly PredictImpression[];
  ctrs: Float64Array;
}

export interface ShadowScorerOptions {
  /** The challenger; empty while shadow is off or its model has not arrived (or failed to load). */
  holder: ModelHolder;
  /** Share of requests scored in shadow, in [0, 1]. */
  share: number;
  metrics: InferenceMetrics;
  logger?: Logger;
  /** Where the shadow scores go (the prediction log). */
  onScored?: (scores: ShadowScores) => void;
  /** Default Math.random; tests pass a fixed sequence. */
  random?: () => number;
  /** Runs the scoring later; default setImmediate, so the answer is on its way before shadow scoring starts. */
  defer?: (work: () => void) => void;
}

export interface ShadowScorer {
  /**
   * Decides whether this request is scored in shadow and, if so, schedules that scoring after the
   * current tick. Returns whether it will be: the caller's own log entries for the request follow the
   * same decision, so every shadow score has the champion's score on the same impression beside it.
   */
  afterAnswer(impressions: readonly PredictImpression[]): boolean;
}

/**
 * Scores a share of requests with a second model once the answer is sent. Nothing here can reach the
 * client: the work runs after the handler returned, failures are counted and logged, and the scores go
 * only to `onScored`.
 */
export function createShadowScorer(options: ShadowScorerOptions): ShadowScorer {
  const { holder, share, metrics } = options;
  const logger = options.logger ?? silentLogger();
  const random = options.random ?? Math.random;
  const defer = options.defer ?? setImmediate;
  let loggedFailure = false;

  const score = (model: LoadedModel, impressions: readonly PredictImpression[]) => {
    const started = process.hrtime.bigint();
    try {
      const ctrs = model.scorer.scoreBatch(impressions, new Float64Array(impressions.length));
      metrics.shadowRequests.inc();
      metrics.shadowPredictions.inc(impressions.length);
      options.onScored?.({ model, impressions, ctrs });
    } catch (error) {
      metrics.shadowErrors.inc();
      // One line, not one per request: a challenger that cannot score fails the same way every time.
      if (!loggedFailure) {
        loggedFailure = true;
        logger.error(
          { err: error, shadowVersion: model.version },
          'shadow scoring failed (answers are unaffected); counted in shadow_errors_total from now on',
        );
      }
    } finally {
      metrics.shadowSeconds.inc(Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  return {
    afterAnswer(impressions) {
      const model = holder.get();
      if (model === undefined || share <= 0 || impressions.length === 0) return false;
      if (share < 1 && random() >= share) return false;
      defer(() => score(model, impressions));
      return true;
    },
  };
}

/**
 * The prediction log's side of shadow scoring: the challenger's scores go to the same log as the
 * champion's, with its own version and role `shadow`, on the same impression ids (the log samples by
 * a hash of the id, so both roles keep the same impressions).
 */
export function logShadowScores(log: PredictionLogWriter): (scores: ShadowScores) => void {
  const named = new WeakMap<LoadedModel, LoggedModel>();
  return ({ model, impressions, ctrs }) => {
    let logged = named.get(model);
    if (logged === undefined) {
      logged = { name: model.name, version: model.version, role: 'shadow' };
      named.set(model, logged);
    }
    log.record(logged, impressions, ctrs);
  };
}
