import type { TrainingSplit } from '@fallback-ctr/clicklog';
import type { MlflowClient } from '@fallback-ctr/mlflow';
import type { FeatureSpec } from '@fallback-ctr/model';
import { AbortedError, errorCode, errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type pg from 'pg';
import { requireDatabaseUrl, type TrainerConfig } from '../config.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { resolveFeatureSpec } from '../feature-spec-source.js';
import type { GateDecision } from '../promotion-gate.js';
import { reconcileLeftovers } from '../reconcile.js';
import { loadChampion } from '../registry.js';
import { acquireRunLock, type RunLock, runLockKey } from '../run-lock.js';
import { BackgroundLog } from './background-log.js';
import { moveChallenger, rollOutChallenger } from './challenger-stage.js';
import { loadAndCheckData } from './check-data.js';
import {
  type ChosenHyperparameters,
  chooseHyperparameters,
  type Finalist,
  readSearchRows,
} from './choose-hyperparameters.js';
import { evaluateOnHoldout } from './evaluate.js';
import { gateCandidate, gateReport } from './gate.js';
import { type WindowBounds, windowBounds } from './load-window.js';
import { type AliasState, promoteVersion, tagPromotion } from './promote.js';
import { rollOutPromotion, rollOutVersion } from './rollout-stage.js';
import { TrackingRun } from './tracking-run.js';
import { shipCandidate, type TrainedCandidate, type TrainingProgress, trainCandidate } from './train-candidate.js';
import type { TrainingSettings } from './train-options.js';
import type { TrainingRowsInMemory } from './training-rows.js';

export interface TrainingDeps {
  config: TrainerConfig;
  mlflow: MlflowClient;
  db: pg.Pool;
  logger: Logger;
  kubeConfig: () => KubeConfig;
  signal?: AbortSignal;
  /** Source of the run's start time, which also ends the window unless TRAIN_WINDOW_END is set (default: the system clock). */
  clock?: () => Date;
  /**
   * An optional last step on the same split (e.g. the feature-insight report), run while the MLflow
   * run is still open, whatever the gate decided. Its failure is logged and tagged, never fatal.
   */
  afterPublish?: (step: AfterPublishContext) => Promise<void>;
}

export interface AfterPublishContext {
  split: TrainingSplit;
  featureSpec: FeatureSpec;
  /** The FTRL settings and passes the candidate was trained with (chosen by the search or configured). */
  training: TrainingSettings;
  runId: string;
  logger: Logger;
  signal?: AbortSignal;
}

export type RunOutcome =
  | { status: 'PROMOTED'; runId: string; version: string; previousChampion: string | null; decision: GateDecision }
  /** PROMOTE_VIA=challenger: the version passed and is the challenger, scored in shadow beside `champion`. */
  | {
      status: 'CHALLENGER';
      runId: string;
      version: string;
      champion: string | null;
      previousChallenger: string | null;
      decision: GateDecision;
    }
  | { status: 'REJECTED'; runId: string; version: string; champion: string | null; decision: GateDecision }
  /** Nothing to train on (no runId) or another run holds the lock (no runId); nothing registered. */
  | { status: 'SKIPPED'; reason: string; runId?: string };

/**
 * One training run, top to bottom: lock → load → train → evaluate (candidate and champion) → gate →
 * publish → (PASS only) move aliases → roll out. Any error before the alias moves marks the MLflow
 * run FAILED and leaves `champion` alone; a failed rollout restores the aliases and the Deployment.
 */
export async function runTraining(deps: TrainingDeps): Promise<RunOutcome> {
  const { config, signal } = deps;
  const modelName = config.mlflow.modelName;
  const lock = await acquireRunLock({
    databaseUrl: requireDatabaseUrl(config),
    key: runLockKey(modelName),
    waitMs: config.lockWaitMs,
    logger: deps.logger,
    signal,
  });
  if (!lock) {
    deps.logger.warn({ modelName }, 'another trainer run holds the lock for this model: not starting');
    return { status: 'SKIPPED', reason: 'another run of this model is in progress' };
  }
  try {
    // Losing the lock's session stops the run like a SIGTERM would, with TRAINER_LOCK_LOST as the cause.
    const signal = deps.signal ? AbortSignal.any([deps.signal, lock.signal]) : lock.signal;
    return await runLocked({ ...deps, signal }, lock, deps.signal);
  } finally {
    await lock.release();
  }
}

/** What the stages share: the dependencies, and the run's start, window, spec and MLflow record. */
interface RunContext extends TrainingDeps {
  lock: RunLock;
  /**
   * The caller's signal alone. Once the alias has moved the promotion stands, lock or not: the
   * rollout answers to SIGTERM only (a lost lock must not undo an alias another run may rely on).
   */
  callerSignal: AbortSignal | undefined;
  startedAt: Date;
  bounds: WindowBounds;
  featureSpec: FeatureSpec;
  run: TrackingRun;
}

/** The run up to the alias move: what was loaded, what the gate decided, which version was registered. */
interface Published {
  split: TrainingSplit;
  training: TrainingSettings;
  decision: GateDecision;
  version: string;
  /** Where a PASS went, and what it replaced; null when the gate did not pass. */
  placed: Placement | null;
}

/** A version that passed: champion at once, or challenger first (PROMOTE_VIA=challenger with a champion to compare with). */
type Placement = { as: 'champion'; before: AliasState } | { as: 'challenger'; previous: string | null };

async function runLocked(
  deps: TrainingDeps,
  lock: RunLock,
  callerSignal: AbortSignal | undefined,
): Promise<RunOutcome> {
  const startedAt = (deps.clock ?? (() => new Date()))();
  const bounds = windowBounds(deps.config.window, () => startedAt);
  const featureSpec = resolveFeatureSpec(deps.config.featureSpecSource);
  const run = await TrackingRun.start(deps.mlflow, deps.config.mlflow, startedAt, bounds, deps.logger);
  const ctx: RunContext = { ...deps, lock, callerSignal, logger: run.logger, startedAt, bounds, featureSpec, run };
  await reconcile(ctx);

  const published = await publishCandidate(ctx);
  if ('skipped' in published) {
    await run.skip(published.skipped);
    return { status: 'SKIPPED', reason: published.skipped, runId: run.runId };
  }
  const { placed } = published;
  if (placed?.as === 'champion') await rollOut(ctx, published.version, placed.before);
  if (placed?.as === 'challenger') await rollOutNewChallenger(ctx, published.version, placed.previous);
  await afterPublish(ctx, published);
  const status = placed === null ? 'REJECTED' : placed.as === 'champion' ? 'PROMOTED' : 'CHALLENGER';
  await run.nameAfter(bounds, { version: published.version, status });
  await run.finish();
  const registered = { runId: run.runId, version: published.version, decision: published.decision };
  if (placed?.as === 'champion') {
    return { status: 'PROMOTED', ...registered, previousChampion: placed.before.champion };
  }
  const champion = published.decision.championVersion;
  if (placed?.as === 'challenger') {
    return { status: 'CHALLENGER', ...registered, champion, previousChallenger: placed.previous };
  }
  return { status: 'REJECTED', ...registered, champion };
}

/**
 * Load and check the data → choose the hyper-parameters → train → evaluate → gate → publish → (PASS only) move the aliases; any
 * failure marks the run FAILED. Data with nothing to learn or measure skips the rest.
 */
async function publishCandidate(ctx: RunContext): Promise<Published | { skipped: string }> {
  const { config, mlflow, run, logger, signal } = ctx;
  const modelName = config.mlflow.modelName;
  try {
    await run.logParams(config, ctx.bounds, ctx.featureSpec);
    const loaded = await loadAndTrain(ctx);
    if ('skipped' in loaded) return loaded;
    const { split, chosen, trained } = loaded;
    const shipped = shipCandidate(trained, ctx.featureSpec, ctx.startedAt, run.runId);
    const champion = await loadChampion(mlflow, modelName);
    const evaluation = await evaluateOnHoldout(split.holdout, shipped.scorer, champion, logger, signal);
    const training = { rows: trained.rows, clicks: trained.clicks };
    const decision = gateCandidate(training, evaluation, config.gate, logger);
    const report = gateReport({
      modelName,
      runId: run.runId,
      bounds: ctx.bounds,
      training,
      evaluation,
      thresholds: config.gate,
      decision,
      artifactSha256: shipped.serialized.sha256,
    });
    await run.publish(training, evaluation, {
      artifactBytes: shipped.serialized.bytes,
      report,
      featureSpec: ctx.featureSpec,
      bounds: ctx.bounds,
      holdoutHours: config.window.holdoutHours,
      createdAt: ctx.startedAt,
    });
    const version = await run.registerVersion(
      modelName,
      decision,
      evaluation,
      shipped.serialized.sha256,
      ctx.featureSpec,
    );
    const placed = await promoteIfPassed(ctx, version.version, decision);
    return { split, training: chosen, decision, version: version.version, placed };
  } catch (thrown) {
    // The first cause is the one reported: a lost lock rather than the abort it caused further down,
    // but a failed read rather than the lock that went down with the same database.
    const abortedByLock = ctx.lock.signal.aborted && isAbort(thrown);
    const error = abortedByLock ? ctx.lock.signal.reason : thrown;
    if (errorCode(error) === TrainerErrorCode.ALIAS_STATE_UNKNOWN) {
      logger.error({ err: error }, 'training run failed while moving the champion alias; its state is unknown');
    } else {
      logger.error({ err: error }, 'training run failed before the champion alias moved');
    }
    const { callerSignal } = ctx;
    await run.fail(callerSignal?.aborted ? new AbortedError('the training run', callerSignal.reason) : error);
    throw error;
  }
}

/**
 * Load and check the data, then choose the hyper-parameters and train: the training part held in memory
 * for the search and the refit is referenced from this call only, so it is let go before the
 * evaluation and the publishing (at 10M impressions, 1.1 GB).
 */
async function loadAndTrain(
  ctx: RunContext,
): Promise<{ skipped: string } | { split: TrainingSplit; chosen: ChosenHyperparameters; trained: TrainedCandidate }> {
  const { config, run, logger, signal } = ctx;
  // The search's read of the training part starts as soon as the window is split, beside the checks' query.
  const data = await loadAndCheckData(
    config,
    ctx.db,
    ctx.featureSpec,
    ctx.bounds,
    logger,
    (checks) => run.logDataChecks(checks),
    (split, stop) =>
      readSearchRows(split.train, {
        featureSpec: ctx.featureSpec,
        config,
        logger,
        signal: signal ? AbortSignal.any([signal, stop]) : stop,
      }) ?? Promise.resolve(undefined),
  );
  if (data.outcome === 'SKIP') return { skipped: data.reason };
  const { split } = data;
  const { chosen, trained } = await chooseAndTrain(ctx, split, data.alongside);
  return { split, chosen, trained };
}

/**
 * Choose the hyper-parameters, then train the candidate with them. When the search ran, the training
 * part it read into memory is the train stage's too (the click log is read once), and it is let go
 * when this returns.
 */
async function chooseAndTrain(
  ctx: RunContext,
  split: TrainingSplit,
  reading: Promise<TrainingRowsInMemory | undefined> | undefined,
): Promise<{ chosen: ChosenHyperparameters; trained: TrainedCandidate }> {
  const { config, run, logger, signal } = ctx;
  // The learning curve's points are written while training goes on, those that queued up behind a
  // write in one logBatch: awaiting each (one per ~12k rows) held the refit up for a round trip each.
  const progress = new BackgroundLog((points: TrainingProgress[]) => run.logProgress(points), {
    concurrency: 1,
    merge: (batches) => batches.flat(),
  });
  const train = (
    ftrl: TrainerConfig['ftrl'],
    passes: number,
    rows: TrainingRowsInMemory | undefined,
    more: { passesChosen?: Promise<number>; signal?: AbortSignal } = {},
  ) =>
    trainCandidate(split.train, {
      featureSpec: ctx.featureSpec,
      ftrl,
      passes,
      progressIntervalMs: config.progressIntervalMs,
      progressEveryRows: config.progressEveryRows,
      logger,
      onProgress: (point) => progress.add([point]),
      signal: more.signal ?? signal,
      rows,
      passesChosen: more.passesChosen,
    });
  // The refit of the winner starts as soon as it is the only candidate left, beside the search's last
  // rung (on a worker thread), which chooses its passes; it ends at those passes: the same model.
  const early: { finalist?: Finalist; training?: Promise<TrainedCandidate> } = {};
  const stopEarly = new AbortController();
  const dropEarly = async () => {
    stopEarly.abort();
    await early.training?.catch(() => undefined);
  };
  let choice: Awaited<ReturnType<typeof chooseHyperparameters>>;
  try {
    choice = await chooseHyperparameters(split.train, {
      featureSpec: ctx.featureSpec,
      config,
      logger,
      onTrial: (trial) => run.logTrial(trial),
      signal,
      rows: reading,
      onFinalist: (finalist) => {
        // Streamed refits (a part longer than TRAIN_MAX_ROWS_IN_MEMORY) read the click log: nothing to overlap.
        if (!finalist.rows.complete) return;
        early.finalist = finalist;
        early.training = train(finalist.ftrl, finalist.maxPasses, finalist.rows, {
          passesChosen: finalist.passes,
          signal: signal ? AbortSignal.any([signal, stopEarly.signal]) : stopEarly.signal,
        });
        early.training.catch(() => undefined);
      },
    });
  } catch (error) {
    await dropEarly();
    throw error;
  }
  const { chosen, rows } = choice;
  await run.logChosen(chosen, config);
  const f = early.finalist?.ftrl;
  const same =
    f !== undefined &&
    chosen.search !== null &&
    f.alpha === chosen.ftrl.alpha &&
    f.l1 === chosen.ftrl.l1 &&
    f.l2 === chosen.ftrl.l2;
  let training: Promise<TrainedCandidate>;
  if (same && early.training) training = early.training;
  else {
    await dropEarly();
    training = train(chosen.ftrl, chosen.passes, rows);
  }
  // A failed training's own error is the one reported, not a progress write it cut short.
  const trained = await training.catch(async (error: unknown) => {
    await progress.settle().catch(() => undefined);
    throw error;
  });
  await progress.settle();
  return { chosen, trained };
}

function isAbort(error: unknown): boolean {
  return error instanceof AbortedError || (error instanceof Error && error.name === 'AbortError');
}

/** Settles what earlier runs left behind (stuck RUNNING, `promotion=pending`); never fails the run. */
async function reconcile(ctx: RunContext): Promise<void> {
  const target = {
    modelName: ctx.config.mlflow.modelName,
    experimentName: ctx.config.mlflow.experimentName,
    exceptRunIds: [ctx.run.runId],
  };
  const rollOut = (version: string) =>
    rollOutVersion(
      {
        config: ctx.config.rollout,
        kubeConfig: ctx.kubeConfig,
        logger: ctx.logger,
        ...(ctx.callerSignal ? { signal: ctx.callerSignal } : {}),
      },
      version,
    );
  await reconcileLeftovers(ctx.mlflow, target, `trainer run ${ctx.run.runId}`, ctx.logger, rollOut).catch(
    (error: unknown) => ctx.logger.warn({ err: error }, 'could not look for the leftovers of earlier runs; next time'),
  );
}

/**
 * Moves `champion` (or, with PROMOTE_VIA=challenger and a champion to compare with, `challenger`) to a
 * version that passed the gate; a version left behind by a failure here is tagged `aborted`.
 */
async function promoteIfPassed(ctx: RunContext, version: string, decision: GateDecision): Promise<Placement | null> {
  const modelName = ctx.config.mlflow.modelName;
  try {
    await ctx.run.tagVersion(version, decision);
    if (decision.outcome !== 'PASS') return null;
    ctx.signal?.throwIfAborted();
    // Another run may have taken a lost lock and promoted meanwhile: never move the alias without it.
    await ctx.lock.assertHeld();
    if (ctx.config.challenger.promoteVia === 'challenger' && decision.championVersion !== null) {
      const previous = await moveChallenger(ctx.mlflow, modelName, version, ctx.logger);
      return { as: 'challenger', previous };
    }
    return { as: 'champion', before: await promoteVersion(ctx.mlflow, modelName, version, ctx.logger) };
  } catch (error) {
    // An unknown alias state leaves the version pending: the next run settles it from what it reads.
    const unknown = errorCode(error) === TrainerErrorCode.ALIAS_STATE_UNKNOWN;
    if (decision.outcome === 'PASS' && !unknown)
      await tagPromotion(ctx.mlflow, modelName, version, 'aborted', `run ${ctx.run.runId}`).catch(() => undefined);
    throw error;
  }
}

async function rollOut(ctx: RunContext, version: string, before: AliasState): Promise<void> {
  try {
    await rollOutPromotion(
      {
        config: ctx.config.rollout,
        kubeConfig: ctx.kubeConfig,
        logger: ctx.logger,
        ...(ctx.callerSignal ? { signal: ctx.callerSignal } : {}),
      },
      ctx.mlflow,
      { modelName: ctx.config.mlflow.modelName, version, before, runId: ctx.run.runId },
    );
  } catch (error) {
    await ctx.run.fail(error);
    throw error;
  }
}

/**
 * Rolls the pods so they load the new challenger. On failure the challenger alias and annotation go
 * back to the previous challenger (none = shadow off), the version is tagged `aborted`, and the run fails.
 */
async function rollOutNewChallenger(ctx: RunContext, version: string, previous: string | null): Promise<void> {
  const modelName = ctx.config.mlflow.modelName;
  const rolloutCtx = {
    config: ctx.config.rollout,
    kubeConfig: ctx.kubeConfig,
    logger: ctx.logger,
    ...(ctx.callerSignal ? { signal: ctx.callerSignal } : {}),
  };
  const annotationKey = ctx.config.challenger.annotationKey;
  try {
    await rollOutChallenger(rolloutCtx, annotationKey, version, { wait: true });
    await tagPromotion(ctx.mlflow, modelName, version, 'challenger', `run ${ctx.run.runId}`).catch((error: unknown) =>
      ctx.logger.warn({ err: error }, 'could not tag the new challenger'),
    );
  } catch (error) {
    ctx.logger.error({ err: error, modelVersion: version }, 'challenger rollout failed: putting the previous one back');
    await moveChallenger(ctx.mlflow, modelName, previous, ctx.logger).catch(() => undefined);
    await tagPromotion(
      ctx.mlflow,
      modelName,
      version,
      'aborted',
      `failed challenger rollout (run ${ctx.run.runId})`,
    ).catch(() => undefined);
    await rollOutChallenger(rolloutCtx, annotationKey, previous, { wait: true }).catch((backError: unknown) =>
      ctx.logger.error({ err: backError }, 'rolling the challenger annotation back failed too'),
    );
    const failure = new TrainerError(
      TrainerErrorCode.ROLLOUT_FAILED,
      `rollout of challenger ${modelName} version ${version} failed (${errorMessage(error)}); challenger moved back to ${previous ?? 'none'}; champion untouched`,
      { cause: error },
    );
    await ctx.run.fail(failure);
    throw failure;
  }
}

async function afterPublish(ctx: RunContext, published: Published): Promise<void> {
  if (!ctx.afterPublish) return;
  try {
    await ctx.afterPublish({
      split: published.split,
      featureSpec: ctx.featureSpec,
      training: { ftrl: published.training.ftrl, passes: published.training.passes },
      runId: ctx.run.runId,
      logger: ctx.logger,
      signal: ctx.signal,
    });
  } catch (error) {
    ctx.logger.warn({ err: error }, 'the optional after-publish step failed; the run stands');
    await ctx.run.tagAfterPublishError(error);
  }
}
