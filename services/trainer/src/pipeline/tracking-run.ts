import type { SearchTrial } from '@fallback-ctr/learn';
import type { MetricInput, MlflowClient, ModelVersion } from '@fallback-ctr/mlflow';
import {
  ARTIFACT_FILE_NAME,
  canonicalJson,
  type FeatureSpec,
  MODEL_ARTIFACT_DIR,
  VersionTag,
} from '@fallback-ctr/model';
import { errorCode, errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';
import type { DataCheckResult } from '../data-checks.js';
import { gateSummaryMarkdown } from '../gate-summary.js';
import { mlflowLinks } from '../mlflow-links.js';
import { CLASSIC_ML_EXPERIMENT_KIND, MlflowTag, runUser } from '../mlflow-tags.js';
import { mlmodelFile, signatureColumns } from '../model-signature.js';
import type { GateDecision } from '../promotion-gate.js';
import { RunTag } from '../registry.js';
import { type ChosenHyperparameters, searchedAxes } from './choose-hyperparameters.js';
import type { HoldoutEvaluation } from './evaluate.js';
import type { GateReport } from './gate.js';
import { gateMetrics, runMetrics, shownMetric } from './holdout-metrics.js';
import type { WindowBounds } from './load-window.js';
import { holdoutCaption, runName } from './run-labels.js';
import { holdoutPlots } from './run-plots.js';
import type { TrainedCandidate, TrainingProgress } from './train-candidate.js';

const PARAM_LIMIT = 6_000;
const TAG_LIMIT = 5_000;
const axisParam = (axis: string): string => (axis === 'passes' ? 'train.passes' : `ftrl.${axis}`);
const hyperparameterParams = (ftrl: TrainerConfig['ftrl'], passes: number): Record<string, number> => ({
  'ftrl.alpha': ftrl.alpha,
  'ftrl.l1': ftrl.l1,
  'ftrl.l2': ftrl.l2,
  'train.passes': passes,
});
const omit = (o: Record<string, number>, keys: string[]) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
const clip = (s: string, limit: number) => (s.length <= limit ? s : `${s.slice(0, limit - 1)}…`);

/**
 * The MLflow run that records one training run, and everything the pipeline writes into it: params,
 * progress and holdout metrics, artifacts, the registered version, and how the run ended. Created
 * first, so any later failure can be marked on it. Its logger names the run in every line.
 */
export class TrackingRun {
  private constructor(
    private readonly mlflow: MlflowClient,
    readonly runId: string,
    readonly experimentId: string,
    readonly artifactUri: string,
    readonly logger: Logger,
  ) {}

  static async start(
    mlflow: MlflowClient,
    config: TrainerConfig['mlflow'],
    startedAt: Date,
    bounds: Pick<WindowBounds, 'from' | 'to'>,
    logger: Logger,
  ): Promise<TrackingRun> {
    const experiment = await mlflow.getOrCreateExperiment(config.experimentName, {
      tags: { [MlflowTag.EXPERIMENT_KIND]: CLASSIC_ML_EXPERIMENT_KIND },
    });
    if (experiment.tags[MlflowTag.EXPERIMENT_KIND] === undefined) {
      // An experiment created before the kind was set (or by another client) opens in the GenAI view.
      await mlflow.setExperimentTag(experiment.experimentId, MlflowTag.EXPERIMENT_KIND, CLASSIC_ML_EXPERIMENT_KIND);
    }
    const run = await mlflow.createRun({
      experimentId: experiment.experimentId,
      runName: runName(bounds),
      startTime: startedAt.getTime(),
      tags: {
        [RunTag.MODEL_NAME]: config.modelName,
        [RunTag.COMPONENT]: 'trainer',
        [MlflowTag.SOURCE_NAME]: 'fallback-ctr-trainer run',
        [MlflowTag.SOURCE_TYPE]: 'JOB',
        [MlflowTag.USER]: runUser(),
      },
    });
    const runLogger = logger.child({ runId: run.info.runId, modelName: config.modelName });
    runLogger.info(
      {
        experimentId: experiment.experimentId,
        url: mlflowLinks.run(mlflow.trackingUri, experiment.experimentId, run.info.runId),
      },
      'training run started',
    );
    return new TrackingRun(mlflow, run.info.runId, experiment.experimentId, run.info.artifactUri, runLogger);
  }

  /** Params: window, feature spec, hyper-parameters, gate thresholds, rollout target. */
  async logParams(config: TrainerConfig, bounds: WindowBounds, featureSpec: FeatureSpec): Promise<void> {
    const spec = canonicalJson(featureSpec);
    const gate = Object.fromEntries(Object.entries(config.gate).map(([k, v]) => [`gate.${k}`, v]));
    await this.mlflow.logBatch(this.runId, {
      params: {
        'window.from': bounds.from.toISOString(),
        'window.to': bounds.to.toISOString(),
        'window.train_hours': config.window.trainWindowHours,
        'window.holdout_hours': config.window.holdoutHours,
        'window.attribution_minutes': config.window.attributionWindowMinutes,
        'data.clicklog_schema': config.clicklogSchema,
        'feature_spec.hash_bits': featureSpec.hashBits,
        'feature_spec.fields': featureSpec.fields.length,
        'feature_spec.crosses': featureSpec.crosses.length,
        feature_spec: clip(spec, PARAM_LIMIT),
        // Values the search will choose are logged once chosen (an MLflow param is written once).
        ...omit(hyperparameterParams(config.ftrl, config.passes), searchedAxes(config).map(axisParam)),
        'ftrl.beta': config.ftrl.beta,
        'train.missing_rate': config.ftrl.missingRate,
        'train.rare_rate': config.ftrl.rareRate,
        'train.min_value_count': config.ftrl.minValueCount,
        'train.negative_sampling_rate': config.ftrl.negativeSamplingRate,
        'train.search': String(config.search.enabled),
        ...gate,
        'rollout.mode': config.rollout.mode,
      },
    });
    await this.mlflow.uploadArtifact(this.artifactUri, 'feature-spec.json', Buffer.from(`${spec}\n`));
  }

  /** One candidate of the hyper-parameter search, as a nested run (tag mlflow.parentRunId) of this one. */
  async logTrial(trial: SearchTrial): Promise<void> {
    const nested = await this.mlflow.createRun({
      experimentId: this.experimentId,
      runName: `trial-${trial.id} rung ${trial.rung}`,
      tags: { 'mlflow.parentRunId': this.runId, 'fallback_ctr.component': 'hyperparameter-search' },
    });
    const id = nested.info.runId;
    await this.mlflow.logBatch(id, {
      params: {
        'ftrl.alpha': trial.alpha,
        'ftrl.l1': trial.l1,
        'ftrl.l2': trial.l2,
        'train.passes': trial.passes,
        rung: trial.rung,
        train_rows: trial.trainRows,
        validation_rows: trial.validationRows,
      },
      metrics: [
        { key: 'validation_logloss', value: trial.validationLogloss, step: 0 },
        { key: 'validation_ne', value: trial.validationNe, step: 0 },
        ...trial.loglossByPass.map((value, i) => ({ key: 'validation_logloss_by_pass', value, step: i + 1 })),
      ].filter((m) => Number.isFinite(m.value)),
    });
    await this.mlflow.finishRun(id, 'FINISHED');
  }

  /** The chosen hyper-parameters as params of this run, and what the search cost. */
  async logChosen(chosen: ChosenHyperparameters, config: Pick<TrainerConfig, 'search'>): Promise<void> {
    const axes = searchedAxes(config).map(axisParam);
    const all = hyperparameterParams(chosen.ftrl, chosen.passes);
    const params = Object.fromEntries(Object.entries(all).filter(([k]) => axes.includes(k)));
    const search = chosen.search;
    await this.mlflow.logBatch(this.runId, {
      params: {
        ...params,
        'search.ran': String(search !== null),
        ...(chosen.skipped === undefined ? {} : { 'search.skipped': clip(chosen.skipped, PARAM_LIMIT) }),
      },
      metrics: search
        ? [
            { key: 'search_trials', value: search.trials.length, step: 0 },
            { key: 'search_validation_logloss', value: search.bestTrial.validationLogloss, step: 0 },
            { key: 'search_cost_in_fits', value: search.costInFits, step: 0 },
            { key: 'search_seconds', value: search.elapsedMs / 1000, step: 0 },
          ].filter((m) => Number.isFinite(m.value))
        : [],
    });
  }

  /** The data checks' metrics (rows, clicks, late clicks, delay quantiles, field coverage) and warnings. */
  async logDataChecks(checks: DataCheckResult): Promise<void> {
    await this.mlflow.logMetrics(this.runId, checks.metrics);
    if (checks.warnings.length > 0) {
      await this.mlflow.setTags(this.runId, { 'data.warnings': clip(checks.warnings.join('\n'), TAG_LIMIT) });
    }
  }

  /** Ends a run that had nothing to train on: FINISHED, tagged SKIPPED with the reason; nothing registered. */
  async skip(reason: string): Promise<void> {
    this.logger.warn({ reason }, 'run skipped: nothing registered');
    await this.mlflow.setTags(this.runId, { 'run.outcome': 'SKIPPED', 'skip.reason': clip(reason, TAG_LIMIT) });
    await this.finish();
  }

  /** Training progress, stepped by rows read so far (and per pass at the end of each). */
  /** Progress points as MLflow metrics stepped by rows (and by pass at a pass's end), in one logBatch. */
  async logProgress(points: readonly TrainingProgress[]): Promise<void> {
    const metrics: MetricInput[] = [];
    for (const p of points) {
      metrics.push(
        { key: 'train_running_logloss', value: p.runningLogloss, step: p.totalRows },
        { key: 'train_rows_per_second', value: p.rowsPerSecond, step: p.totalRows },
      );
      if (p.passDone) {
        metrics.push(
          { key: 'pass_progressive_logloss', value: p.runningLogloss, step: p.pass },
          { key: 'pass_rows', value: p.rows, step: p.pass },
        );
      }
    }
    await this.mlflow.logBatch(this.runId, { metrics });
  }

  /**
   * Stage 5 — publish: holdout metrics, the model artifact with its `MLmodel` description, the gate
   * report and its summary (also the run's description), and the plots.
   */
  async publish(
    trained: Pick<TrainedCandidate, 'rows' | 'clicks'>,
    evaluation: HoldoutEvaluation,
    files: {
      artifactBytes: Buffer;
      report: GateReport;
      featureSpec: FeatureSpec;
      bounds: Pick<WindowBounds, 'to'>;
      holdoutHours: number;
      createdAt: Date;
    },
  ): Promise<void> {
    await this.mlflow.logMetrics(this.runId, runMetrics({ rows: trained.rows, clicks: trained.clicks }, evaluation));
    const caption = holdoutCaption(evaluation, files.bounds, files.holdoutHours);
    const plots = await holdoutPlots(evaluation, this.logger, caption);
    const summary = gateSummaryMarkdown(files.report);
    const mlmodel = mlmodelFile(files.featureSpec, {
      runId: this.runId,
      createdAt: files.createdAt,
      sha256: files.report.artifactSha256,
    });
    const upload = (path: string, bytes: Buffer) => this.mlflow.uploadArtifact(this.artifactUri, path, bytes);
    await upload(`${MODEL_ARTIFACT_DIR}/${ARTIFACT_FILE_NAME}`, files.artifactBytes);
    await upload(`${MODEL_ARTIFACT_DIR}/MLmodel`, Buffer.from(mlmodel));
    await upload('gate-report.json', Buffer.from(`${JSON.stringify(files.report, null, 2)}\n`));
    await upload('gate-summary.md', Buffer.from(summary));
    for (const plot of plots) await upload(`plots/${plot.name}.svg`, Buffer.from(plot.svg));
    for (const plot of plots) if (plot.png) await upload(`plots/${plot.name}.png`, plot.png);
    await this.mlflow.setTags(this.runId, { [MlflowTag.RUN_NOTE]: clip(summary, TAG_LIMIT) });
    this.logger.info('artifacts uploaded: model, gate report and summary, plots');
  }

  /** Renames the run after what happened to its version ("v2 PROMOTED · window"); best effort. */
  async nameAfter(
    bounds: Pick<WindowBounds, 'from' | 'to'>,
    outcome: { version: string; status: string },
  ): Promise<void> {
    await this.mlflow
      .renameRun(this.runId, runName(bounds, outcome))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not rename the MLflow run'));
  }

  /** Registers the run's model as a new version, tagged with the gate decision and holdout metrics. */
  async registerVersion(
    modelName: string,
    decision: GateDecision,
    evaluation: HoldoutEvaluation,
    sha256: string,
    featureSpec: FeatureSpec,
  ): Promise<ModelVersion> {
    await this.mlflow.getOrCreateRegisteredModel(modelName, {
      description: 'fallback-path CTR model (FTRL-Proximal); alias "champion" is the serving version',
    });
    const holdoutTags = Object.entries({
      ...gateMetrics(evaluation.candidate.metrics),
      rows: evaluation.rows,
      clicks: evaluation.clicks,
    }).map(([metric, value]) => [VersionTag.holdout(metric), shownMetric(metric, value)]);
    const tags: Record<string, string> = {
      [VersionTag.GATE_OUTCOME]: decision.outcome,
      [VersionTag.GATE_REASONS]: clip(decision.reasons.join('; '), TAG_LIMIT),
      [VersionTag.ARTIFACT_SHA256]: sha256,
      [VersionTag.PROMOTION]: decision.outcome === 'PASS' ? 'pending' : 'not-eligible',
      ...Object.fromEntries(holdoutTags),
      'gate.champion_version': decision.championVersion ?? 'none',
    };
    return this.mlflow.createModelVersion({
      name: modelName,
      source: `${this.artifactUri}/${MODEL_ARTIFACT_DIR}`,
      runId: this.runId,
      tags,
      description: versionDescription(decision, evaluation, featureSpec),
    });
  }

  /** Names the registered version and the gate outcome on the run. */
  async tagVersion(version: string, decision: GateDecision): Promise<void> {
    await this.mlflow.setTags(this.runId, { 'model.version': version, 'gate.outcome': decision.outcome });
    this.logger.info({ modelVersion: version, gate: decision.outcome }, 'model version registered');
  }

  /** Records why the optional after-publish step failed (best effort: the run stands). */
  async tagAfterPublishError(error: unknown): Promise<void> {
    const message = String(errorMessage(error) ?? error);
    await this.mlflow.setTags(this.runId, { 'after_publish.error': clip(message, TAG_LIMIT) }).catch(() => undefined);
  }

  async finish(): Promise<void> {
    try {
      await this.mlflow.finishRun(this.runId, 'FINISHED');
    } catch (error) {
      this.logger.warn({ err: error, runId: this.runId }, 'could not mark the MLflow run FINISHED');
    }
  }

  /** Marks the run FAILED with the error as tags. Best effort: MLflow may be the thing that failed. */
  async fail(error: unknown): Promise<void> {
    const code = errorCode(error);
    try {
      await this.mlflow.setTags(this.runId, {
        'error.code': typeof code === 'string' ? code : 'UNKNOWN',
        'error.message': clip(errorMessage(error), TAG_LIMIT),
      });
      await this.mlflow.finishRun(this.runId, 'FAILED');
    } catch (markError) {
      this.logger.error({ runId: this.runId, err: markError }, 'could not mark the MLflow run FAILED');
    }
  }
}

/** What the version page says first: the gate outcome, the holdout numbers, and the inputs the model reads. */
function versionDescription(decision: GateDecision, evaluation: HoldoutEvaluation, spec: FeatureSpec): string {
  const m = gateMetrics(evaluation.candidate.metrics);
  const champion = evaluation.champion
    ? ` (champion v${evaluation.champion.version} on the same rows: AUC ${evaluation.champion.metrics.auc.toFixed(4)}, logloss ${evaluation.champion.metrics.logloss.toFixed(6)})`
    : '';
  const inputs = signatureColumns(spec).inputs.map((c) => `\`${c.name}\``);
  return clip(
    [
      `**Gate ${decision.outcome}**: ${decision.reasons.join('; ')}.`,
      '',
      `Holdout (${evaluation.rows} impressions, ${evaluation.clicks} clicks): AUC ${m.auc.toFixed(4)}, logloss ${m.logloss.toFixed(6)}, NE ${m.ne.toFixed(4)}, calibration ${m.calibration.toFixed(3)}${champion}.`,
      '',
      `Reads ${inputs.length} raw fields (none required; a missing one scores as "missing"): ${inputs.join(', ')}; ${spec.crosses.length} crosses, 2^${spec.hashBits} hashed weights. Serve it with the inference API (\`POST /predict\`); the plain-data artifact is \`model/${ARTIFACT_FILE_NAME}\`.`,
    ].join('\n'),
    5_000,
  );
}
