import type { EvaluationMetrics } from '@fallback-ctr/learn';
import type { MetricInput, MlflowClient, ModelVersion } from '@fallback-ctr/mlflow';
import { ARTIFACT_FILE_NAME, canonicalJson, type FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';
import { svgToPng } from '../png.js';
import type { GateDecision } from '../promotion-gate.js';
import { MODEL_ARTIFACT_DIR, VersionTag } from '../registry.js';
import { reliabilityDiagramSvg, rocCurveSvg } from '../svg-plots.js';
import type { HoldoutEvaluation } from './evaluate.js';
import type { WindowBounds } from './load-window.js';
import type { TrainingProgress } from './train-candidate.js';

export interface TrackingRun {
  runId: string;
  experimentId: string;
  artifactUri: string;
}

const PARAM_LIMIT = 6_000;
const TAG_LIMIT = 5_000;
const clip = (s: string, limit: number) => (s.length <= limit ? s : `${s.slice(0, limit - 1)}…`);

/** Opens the MLflow run that records this training run (created first, so any failure can be marked on it). */
export async function startTrackingRun(
  mlflow: MlflowClient,
  config: Pick<TrainerConfig, 'mlflow'>,
  startedAt: Date,
): Promise<TrackingRun> {
  const experiment = await mlflow.getOrCreateExperiment(config.mlflow.experimentName);
  const run = await mlflow.createRun({
    experimentId: experiment.experimentId,
    runName: `train-${startedAt.toISOString().replace(/[:.]/g, '-')}`,
    startTime: startedAt.getTime(),
    tags: { 'fallback_ctr.model_name': config.mlflow.modelName, 'fallback_ctr.component': 'trainer' },
  });
  return { runId: run.info.runId, experimentId: experiment.experimentId, artifactUri: run.info.artifactUri };
}

/** Params: window, feature spec, hyper-parameters, gate thresholds, rollout target. */
export async function logRunParams(
  mlflow: MlflowClient,
  run: TrackingRun,
  config: TrainerConfig,
  bounds: WindowBounds,
  featureSpec: FeatureSpec,
): Promise<void> {
  const spec = canonicalJson(featureSpec);
  const gate = Object.fromEntries(Object.entries(config.gate).map(([k, v]) => [`gate.${k}`, v]));
  await mlflow.logBatch(run.runId, {
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
      'ftrl.alpha': config.ftrl.alpha,
      'ftrl.beta': config.ftrl.beta,
      'ftrl.l1': config.ftrl.l1,
      'ftrl.l2': config.ftrl.l2,
      'train.passes': config.passes,
      'train.missing_rate': config.ftrl.missingRate,
      ...gate,
      'rollout.mode': config.rollout.mode,
    },
  });
  await mlflow.uploadArtifact(run.artifactUri, 'feature-spec.json', Buffer.from(`${spec}\n`));
}

/** Training progress as metrics, stepped by rows read so far (and per pass at the end of each). */
export function progressMetrics(p: TrainingProgress): MetricInput[] {
  const metrics: MetricInput[] = [
    { key: 'train_running_logloss', value: p.runningLogloss, step: p.totalRows },
    { key: 'train_rows_per_second', value: p.rowsPerSecond, step: p.totalRows },
  ];
  if (p.passDone) {
    metrics.push(
      { key: 'pass_progressive_logloss', value: p.runningLogloss, step: p.pass },
      { key: 'pass_rows', value: p.rows, step: p.pass },
    );
  }
  return metrics;
}

const metricValues = (m: EvaluationMetrics) => ({
  logloss: m.logloss,
  auc: m.auc,
  ne: m.normalizedEntropy,
  calibration: m.calibration,
  mean_prediction: m.meanPrediction,
});

/** Holdout metrics of candidate and champion, and the slice counts and base rates. */
export function holdoutMetrics(
  training: { rows: number; clicks: number },
  evaluation: HoldoutEvaluation,
): Record<string, number> {
  const trainRate = training.rows > 0 ? training.clicks / training.rows : Number.NaN;
  const holdoutRate = evaluation.rows > 0 ? evaluation.clicks / evaluation.rows : Number.NaN;
  const out: Record<string, number> = {
    train_rows: training.rows,
    train_clicks: training.clicks,
    train_base_rate: trainRate,
    holdout_rows: evaluation.rows,
    holdout_clicks: evaluation.clicks,
    holdout_base_rate: holdoutRate,
    base_rate_shift: Math.abs(holdoutRate - trainRate) / trainRate,
  };
  for (const [k, v] of Object.entries(metricValues(evaluation.candidate.metrics))) out[`holdout_${k}`] = v;
  if (evaluation.champion) {
    for (const [k, v] of Object.entries(metricValues(evaluation.champion.metrics))) out[`champion_holdout_${k}`] = v;
  }
  return out;
}

export interface GateReport {
  modelName: string;
  runId: string;
  window: { from: string; to: string };
  training: { rows: number; clicks: number };
  holdout: { rows: number; clicks: number };
  candidate: Record<string, number>;
  champion: ({ version: string } & Record<string, number | string>) | null;
  thresholds: TrainerConfig['gate'];
  decision: GateDecision;
  artifactSha256: string;
}

/** Uploads the model artifact, the gate report and the plots into the run. */
export async function uploadRunArtifacts(
  mlflow: MlflowClient,
  run: TrackingRun,
  files: { artifactBytes: Buffer; report: GateReport; evaluation: HoldoutEvaluation },
  logger: Logger,
): Promise<void> {
  const { evaluation } = files;
  const championLabel = evaluation.champion ? `champion v${evaluation.champion.version}` : '';
  const reliability = reliabilityDiagramSvg('Reliability on the holdout', [
    { label: 'candidate', color: '#1f77b4', points: evaluation.candidate.metrics.reliability },
    ...(evaluation.champion
      ? [{ label: championLabel, color: '#ff7f0e', points: evaluation.champion.metrics.reliability }]
      : []),
  ]);
  const roc = rocCurveSvg('ROC curve on the holdout', [
    {
      label: `candidate (AUC ${evaluation.candidate.metrics.auc.toFixed(4)})`,
      color: '#1f77b4',
      points: evaluation.candidate.roc,
    },
    ...(evaluation.champion
      ? [
          {
            label: `${championLabel} (AUC ${evaluation.champion.metrics.auc.toFixed(4)})`,
            color: '#ff7f0e',
            points: evaluation.champion.roc,
          },
        ]
      : []),
  ]);
  await mlflow.uploadArtifact(run.artifactUri, `${MODEL_ARTIFACT_DIR}/${ARTIFACT_FILE_NAME}`, files.artifactBytes);
  await mlflow.uploadArtifact(
    run.artifactUri,
    'gate-report.json',
    Buffer.from(`${JSON.stringify(files.report, null, 2)}\n`),
  );
  await mlflow.uploadArtifact(run.artifactUri, 'plots/reliability.svg', Buffer.from(reliability));
  await mlflow.uploadArtifact(run.artifactUri, 'plots/roc.svg', Buffer.from(roc));
  for (const [name, svg] of [
    ['reliability', reliability],
    ['roc', roc],
  ] as const) {
    // PNG copies are a convenience (the SVGs are the plots); a rendering problem never fails the run.
    let png: Buffer | undefined;
    try {
      const rendered = await svgToPng(svg);
      if (!rendered.withText) logger.warn('no sans-serif font found under /usr/share/fonts: PNG plots have no text');
      png = rendered.png;
    } catch (error) {
      logger.warn({ err: error, plot: name }, 'could not render the PNG copy of a plot');
    }
    if (png) await mlflow.uploadArtifact(run.artifactUri, `plots/${name}.png`, png);
  }
  logger.info({ runId: run.runId }, 'artifacts uploaded: model, gate report, plots');
}

/** Registers the run's model as a new version, tagged with the gate decision and holdout metrics. */
export async function registerVersion(
  mlflow: MlflowClient,
  run: TrackingRun,
  modelName: string,
  decision: GateDecision,
  evaluation: HoldoutEvaluation,
  sha256: string,
): Promise<ModelVersion> {
  await mlflow.getOrCreateRegisteredModel(modelName, {
    description: 'fallback-path CTR model (FTRL-Proximal); alias "champion" is the serving version',
  });
  const m = evaluation.candidate.metrics;
  const tags: Record<string, string> = {
    [VersionTag.GATE_OUTCOME]: decision.outcome,
    [VersionTag.GATE_REASONS]: clip(decision.reasons.join('; '), TAG_LIMIT),
    [VersionTag.ARTIFACT_SHA256]: sha256,
    [VersionTag.PROMOTION]: decision.outcome === 'PASS' ? 'pending' : 'not-eligible',
    [VersionTag.holdout('logloss')]: String(m.logloss),
    [VersionTag.holdout('auc')]: String(m.auc),
    [VersionTag.holdout('ne')]: String(m.normalizedEntropy),
    [VersionTag.holdout('calibration')]: String(m.calibration),
    [VersionTag.holdout('rows')]: String(evaluation.rows),
    [VersionTag.holdout('clicks')]: String(evaluation.clicks),
    'gate.champion_version': decision.championVersion ?? 'none',
  };
  return mlflow.createModelVersion({
    name: modelName,
    source: `${run.artifactUri}/${MODEL_ARTIFACT_DIR}`,
    runId: run.runId,
    tags,
    description: `gate ${decision.outcome}: ${clip(decision.reasons.join('; '), 1_000)}`,
  });
}

/** Marks the run FAILED with the error as tags. Best effort: MLflow may be the thing that failed. */
export async function failTrackingRun(
  mlflow: MlflowClient,
  runId: string,
  error: unknown,
  logger: Logger,
): Promise<void> {
  const code = (error as { code?: unknown }).code;
  try {
    await mlflow.setTags(runId, {
      'error.code': typeof code === 'string' ? code : 'UNKNOWN',
      'error.message': clip(error instanceof Error ? error.message : String(error), TAG_LIMIT),
    });
    await mlflow.finishRun(runId, 'FAILED');
  } catch (markError) {
    logger.error({ runId, err: markError }, 'could not mark the MLflow run FAILED');
  }
}
