import type { TrainingSplit } from '@fallback-ctr/clicklog';
import { toArtifactInput } from '@fallback-ctr/learn';
import type { MlflowClient } from '@fallback-ctr/mlflow';
import { createScorer, type FeatureSpec, parseArtifact, serializeArtifact } from '@fallback-ctr/model';
import { AbortedError, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type pg from 'pg';
import type { TrainerConfig } from '../config.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { resolveFeatureSpec } from '../feature-spec-source.js';
import { decidePromotion, type GateDecision } from '../promotion-gate.js';
import { loadChampion } from '../registry.js';
import { acquireRunLock, runLockKey } from '../run-lock.js';
import { evaluateOnHoldout } from './evaluate.js';
import { loadWindow, windowBounds } from './load-window.js';
import { promoteVersion, restoreAliases, tagPromotion } from './promote.js';
import {
  failTrackingRun,
  type GateReport,
  holdoutMetrics,
  logRunParams,
  progressMetrics,
  registerVersion,
  startTrackingRun,
  uploadRunArtifacts,
} from './publish.js';
import { deploymentRollout, rollOutVersion } from './roll-out.js';
import { trainCandidate } from './train-candidate.js';

export interface TrainingDeps {
  config: TrainerConfig;
  mlflow: MlflowClient;
  db: pg.Pool;
  logger: Logger;
  kubeConfig: () => KubeConfig;
  signal?: AbortSignal;
  /** Source of the run's start time (default: the system clock). */
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
  runId: string;
  logger: Logger;
  signal?: AbortSignal;
}

export type RunOutcome =
  | { status: 'PROMOTED'; runId: string; version: string; previousChampion: string | null; decision: GateDecision }
  | { status: 'REJECTED'; runId: string; version: string; champion: string | null; decision: GateDecision }
  | { status: 'SKIPPED'; reason: string };

/**
 * One training run, top to bottom: lock → load → train → evaluate (candidate and champion) → gate →
 * publish → (PASS only) move aliases → roll out. Any error before the alias moves marks the MLflow
 * run FAILED and leaves `champion` alone; a failed rollout restores the aliases and the Deployment.
 */
export async function runTraining(deps: TrainingDeps): Promise<RunOutcome> {
  const { config, signal } = deps;
  const modelName = config.mlflow.modelName;
  const lock = await acquireRunLock({
    databaseUrl: config.databaseUrl,
    key: runLockKey(modelName),
    waitMs: config.lockWaitMs,
    logger: deps.logger,
    ...(signal ? { signal } : {}),
  });
  if (!lock) {
    deps.logger.warn({ modelName }, 'another trainer run holds the lock for this model: not starting');
    return { status: 'SKIPPED', reason: 'another run of this model is in progress' };
  }
  try {
    return await runLocked(deps);
  } finally {
    await lock.release();
  }
}

async function runLocked(deps: TrainingDeps): Promise<RunOutcome> {
  const { config, mlflow, signal } = deps;
  const modelName = config.mlflow.modelName;
  const startedAt = (deps.clock ?? (() => new Date()))();
  const featureSpec = resolveFeatureSpec(config.featureSpecSource);
  const run = await startTrackingRun(mlflow, config, startedAt);
  const logger = deps.logger.child({ runId: run.runId, modelName });
  logger.info({ experimentId: run.experimentId }, 'training run started');

  let promoted: { version: string; before: Awaited<ReturnType<typeof promoteVersion>> } | undefined;
  let decision: GateDecision;
  let versionNumber: string | undefined;
  let loadedSplit: TrainingSplit | undefined;
  let passedGate = false;
  try {
    // 1. load
    const bounds = windowBounds(config.window);
    await logRunParams(mlflow, run, config, bounds, featureSpec);
    const split = await loadWindow(config, deps.db, logger);
    loadedSplit = split;

    // 2. train
    const trained = await trainCandidate(split.train, {
      featureSpec,
      ftrl: config.ftrl,
      passes: config.passes,
      progressIntervalMs: config.progressIntervalMs,
      logger,
      onProgress: async (p) => {
        await mlflow.logBatch(run.runId, { metrics: progressMetrics(p) });
      },
      ...(signal ? { signal } : {}),
    });
    const serialized = serializeArtifact(
      toArtifactInput(trained.result, { featureSpec, createdAt: startedAt, notes: { runId: run.runId } }),
    );
    // Evaluate exactly what will be shipped: the serialized artifact, parsed and verified as inference does.
    const candidate = createScorer(parseArtifact(serialized.bytes));

    // 3. evaluate candidate and champion on the same holdout rows
    const champion = await loadChampion(mlflow, modelName);
    const evaluation = await evaluateOnHoldout(
      split.holdout,
      candidate,
      champion ? { version: champion.version, scorer: champion.scorer } : null,
      logger,
      signal,
    );

    // 4. gate
    const gateMetrics = (m: typeof evaluation.candidate.metrics) => ({
      logloss: m.logloss,
      auc: m.auc,
      ne: m.normalizedEntropy,
      calibration: m.calibration,
    });
    decision = decidePromotion({
      training: { rows: trained.rows, clicks: trained.clicks },
      holdout: { rows: evaluation.rows, clicks: evaluation.clicks },
      candidate: gateMetrics(evaluation.candidate.metrics),
      champion: evaluation.champion
        ? { version: evaluation.champion.version, ...gateMetrics(evaluation.champion.metrics) }
        : null,
      thresholds: config.gate,
    });
    passedGate = decision.outcome === 'PASS';
    logger.info(
      { gate: decision.outcome, reasons: decision.reasons, checks: decision.checks },
      'promotion gate decided',
    );

    // 5. publish
    const metrics = holdoutMetrics({ rows: trained.rows, clicks: trained.clicks }, evaluation);
    await mlflow.logMetrics(run.runId, metrics);
    const report: GateReport = {
      modelName,
      runId: run.runId,
      window: { from: bounds.from.toISOString(), to: bounds.to.toISOString() },
      training: { rows: trained.rows, clicks: trained.clicks },
      holdout: { rows: evaluation.rows, clicks: evaluation.clicks },
      candidate: pick(metrics, 'holdout_'),
      champion: evaluation.champion
        ? { version: evaluation.champion.version, ...pick(metrics, 'champion_holdout_') }
        : null,
      thresholds: config.gate,
      decision,
      artifactSha256: serialized.sha256,
    };
    await uploadRunArtifacts(mlflow, run, { artifactBytes: serialized.bytes, report, evaluation }, logger);
    const version = await registerVersion(mlflow, run, modelName, decision, evaluation, serialized.sha256);
    versionNumber = version.version;
    await mlflow.setTags(run.runId, { 'model.version': version.version, 'gate.outcome': decision.outcome });
    logger.info({ modelVersion: version.version, gate: decision.outcome }, 'model version registered');

    if (decision.outcome === 'PASS') {
      signal?.throwIfAborted();
      const before = await promoteVersion(mlflow, modelName, version.version, logger);
      promoted = { version: version.version, before };
    }
  } catch (error) {
    logger.error({ err: error }, 'training run failed before the champion alias moved');
    if (versionNumber !== undefined && passedGate) {
      await tagPromotion(mlflow, modelName, versionNumber, 'aborted').catch(() => undefined);
    }
    const recorded = signal?.aborted ? new AbortedError('the training run', signal.reason) : error;
    await failTrackingRun(mlflow, run.runId, recorded, logger);
    throw error;
  }

  const afterPublish = async () => {
    if (!deps.afterPublish || !loadedSplit) return;
    try {
      await deps.afterPublish({
        split: loadedSplit,
        featureSpec,
        runId: run.runId,
        logger,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      logger.warn({ err: error }, 'the optional after-publish step failed; the run stands');
      await mlflow
        .setTags(run.runId, { 'after_publish.error': String((error as Error).message ?? error).slice(0, 5_000) })
        .catch(() => undefined);
    }
  };

  if (!promoted) {
    await afterPublish();
    await finish(mlflow, run.runId, logger);
    return {
      status: 'REJECTED',
      runId: run.runId,
      version: versionNumber!,
      champion: decision.championVersion,
      decision,
    };
  }

  // 6. roll out (the alias has moved)
  const rolloutCtx = { config: config.rollout, kubeConfig: deps.kubeConfig, logger, ...(signal ? { signal } : {}) };
  try {
    await rollOutVersion(rolloutCtx, promoted.version);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error({ err: error, modelVersion: promoted.version }, 'rollout failed: rolling back');
    await restoreAliases(mlflow, modelName, promoted.before, logger);
    await tagPromotion(mlflow, modelName, promoted.version, 'rolled-back').catch(() => undefined);
    try {
      const back = deploymentRollout(rolloutCtx);
      await back.patchVersion(promoted.before.champion);
      await back.waitForRollout({ timeoutMs: config.rollout.timeoutMs, pollMs: config.rollout.pollMs });
    } catch (backError) {
      logger.error({ err: backError }, 'rolling the deployment back failed too');
    }
    const failure = new TrainerError(
      TrainerErrorCode.ROLLOUT_FAILED,
      `rollout of ${modelName} version ${promoted.version} failed (${reason}); champion moved back to ${
        promoted.before.champion ? `version ${promoted.before.champion}` : 'no version'
      } and the deployment patched back`,
      { cause: error },
    );
    await failTrackingRun(mlflow, run.runId, failure, logger);
    throw failure;
  }
  await tagPromotion(mlflow, modelName, promoted.version, 'promoted').catch((error: unknown) =>
    logger.warn({ err: error }, 'could not tag the version as promoted'),
  );
  await afterPublish();
  await finish(mlflow, run.runId, logger);
  return {
    status: 'PROMOTED',
    runId: run.runId,
    version: promoted.version,
    previousChampion: promoted.before.champion,
    decision,
  };
}

function pick(metrics: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

async function finish(mlflow: MlflowClient, runId: string, logger: Logger): Promise<void> {
  try {
    await mlflow.finishRun(runId, 'FINISHED');
  } catch (error) {
    logger.warn({ err: error, runId }, 'could not mark the MLflow run FINISHED');
  }
}
