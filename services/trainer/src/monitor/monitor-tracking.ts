import type { MlflowClient } from '@fallback-ctr/mlflow';
import type { Logger } from '@fallback-ctr/runtime';
import { mlflowLinks } from '../mlflow-links.js';
import { CLASSIC_ML_EXPERIMENT_KIND, MlflowTag, runUser } from '../mlflow-tags.js';
import { svgToPng } from '../png.js';
import { RunTag } from '../registry.js';
import { type HourPoint, liveCalibrationSvg } from '../svg-plots.js';
import type { Window } from './field-drift.js';
import type { GuardDecision } from './guard.js';
import type { LiveQuality } from './live-quality.js';

const HOUR_MS = 3_600_000;
/** The run tag naming the version a monitoring run watches. */
export const MONITORED_VERSION_TAG = 'fallback_ctr.monitored_version';

/** Model-version tags the monitor writes (`status` shows them). */
export const MonitorVersionTag = {
  /** ok | alarm | insufficient-data */
  GUARD: 'monitor.guard',
  GUARD_REASON: 'monitor.guard.reason',
  /** When the monitor last judged the version (RFC 3339). */
  AT: 'monitor.at',
  /** Live Σp/Σy over the monitor's window, rounded, with its standard error. */
  CALIBRATION: 'monitor.calibration',
  IMPRESSIONS: 'monitor.impressions',
  CLICKS: 'monitor.clicks',
  /** The field that moved most since the version's training window, and its PSI. */
  TOP_DRIFT: 'monitor.drift.top',
} as const;

/**
 * Metric names, one point per hour: step = the version's age (stepOrigin), timestamp = the hour's start
 * (MLflow's "Time (wall)" x-axis shows the date).
 */
function hourMetrics(q: LiveQuality): Record<string, number> {
  const out: Record<string, number> = {
    'live.impressions': q.impressions,
    'live.clicks': q.clicks,
    'live.calibration': q.calibration.value,
    'live.calibration_se': q.calibration.se,
    'live.logloss': q.logloss.value,
    'live.logloss_se': q.logloss.se,
  };
  if (Number.isFinite(q.auc.value)) {
    out['live.auc'] = q.auc.value;
    out['live.auc_se'] = q.auc.se;
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => Number.isFinite(v)));
}

/** A version's training window, from its run's params (window.from / window.to); null if it has none. */
export async function trainingWindow(mlflow: MlflowClient, modelName: string, version: string): Promise<Window | null> {
  return runWindow(mlflow, await mlflow.getModelVersion(modelName, version));
}

async function runWindow(mlflow: MlflowClient, registered: { runId?: string | undefined }): Promise<Window | null> {
  if (!registered.runId) return null;
  const run = await mlflow.getRun(registered.runId);
  const from = run.data.params['window.from'];
  const to = run.data.params['window.to'];
  if (!from || !to) return null;
  return { from: new Date(from), to: new Date(to) };
}

/**
 * Step 0 of a version's hourly metrics: the hour that holds the end of its training window (else its
 * registration), so step = the model's age in hours, small and the same on every monitor pass.
 * Hours since 1970 (~492,000) read as "492.42k" on MLflow's charts.
 */
export async function stepOrigin(mlflow: MlflowClient, modelName: string, version: string): Promise<number> {
  const registered = await mlflow.getModelVersion(modelName, version);
  const window = await runWindow(mlflow, registered);
  // Neither known (a server that omits creation_timestamp): hours since 1970, as before.
  const origin = window?.to.getTime() ?? registered.creationTimestamp ?? 0;
  return Math.floor(origin / HOUR_MS) * HOUR_MS;
}

/**
 * The monitoring run of one version: one per version, found again by its tag, so every monitor
 * invocation appends the hours it measured to the same metric history (an hour logged twice with the
 * same value is the same point; MLflow keeps it once).
 */
export async function monitoringRun(
  mlflow: MlflowClient,
  experimentName: string,
  modelName: string,
  version: string,
): Promise<{ runId: string; experimentId: string; artifactUri: string }> {
  const experiment = await mlflow.getOrCreateExperiment(experimentName, {
    tags: { [MlflowTag.EXPERIMENT_KIND]: CLASSIC_ML_EXPERIMENT_KIND },
  });
  const found = await mlflow.searchAllRuns({
    experimentIds: [experiment.experimentId],
    filter: `tags.\`${MONITORED_VERSION_TAG}\` = '${version}' AND tags.\`${RunTag.MODEL_NAME}\` = '${modelName.replace(/'/g, "\\'")}'`,
    maxResults: 1,
  });
  const existing = found[0];
  if (existing) {
    return {
      runId: existing.info.runId,
      experimentId: experiment.experimentId,
      artifactUri: existing.info.artifactUri,
    };
  }
  const run = await mlflow.createRun({
    experimentId: experiment.experimentId,
    runName: `v${version} live monitor`,
    tags: {
      [RunTag.MODEL_NAME]: modelName,
      [RunTag.COMPONENT]: 'monitor',
      [MONITORED_VERSION_TAG]: version,
      [MlflowTag.SOURCE_NAME]: 'fallback-ctr-trainer monitor',
      [MlflowTag.SOURCE_TYPE]: 'JOB',
      [MlflowTag.USER]: runUser(),
      [MlflowTag.RUN_NOTE]: `Live quality of ${modelName} version ${version} on the traffic it served: per hour, Σp/Σy (calibration), logloss and AUC with standard errors, from the prediction log joined with the click logs once the attribution window has passed. Step = the version's age in hours (since the end of its training window; the hour holding it is 0); each point's timestamp is its hour, for MLflow's Time x-axis.`,
    },
  });
  return { runId: run.info.runId, experimentId: experiment.experimentId, artifactUri: run.info.artifactUri };
}

export interface MonitorLogInput {
  modelName: string;
  experimentName: string;
  version: string;
  hourly: readonly LiveQuality[];
  guard: GuardDecision | undefined;
  band: { min: number; max: number };
  /** The report (JSON) stored beside the plot. */
  report: unknown;
  logger: Logger;
}

/** Logs a version's hourly live metrics and the calibration plot to its monitoring run. Returns the run's link. */
export async function logMonitoring(mlflow: MlflowClient, input: MonitorLogInput): Promise<string> {
  const run = await monitoringRun(mlflow, input.experimentName, input.modelName, input.version);
  const mine = input.hourly.filter((q) => q.version === input.version && q.hour !== null);
  const origin = mine.length > 0 ? await stepOrigin(mlflow, input.modelName, input.version) : 0;
  const metrics = mine.flatMap((q) => {
    const at = q.hour!.getTime();
    const step = Math.round((at - origin) / HOUR_MS);
    return Object.entries(hourMetrics(q)).map(([key, value]) => ({ key, value, timestamp: at, step }));
  });
  if (metrics.length > 0) await mlflow.logBatch(run.runId, { metrics });
  if (input.guard) {
    await mlflow.setTags(run.runId, { 'monitor.guard': input.guard.state, 'monitor.guard.reason': input.guard.reason });
  }
  const points: HourPoint[] = mine.map((q) => ({ hour: q.hour!, value: q.calibration.value, se: q.calibration.se }));
  const svg = liveCalibrationSvg(
    `${input.modelName} v${input.version}: live calibration`,
    [{ label: `v${input.version}`, color: '#1f77b4', points }],
    input.band,
    {
      subtitle:
        points.length > 0
          ? `${points.length} hours, ${points[0]!.hour.toISOString().slice(0, 13)}h – ${points.at(-1)!.hour.toISOString().slice(0, 13)}h UTC`
          : 'no labelled traffic yet',
    },
  );
  await mlflow.uploadArtifact(run.artifactUri, 'monitor/calibration.svg', Buffer.from(svg));
  try {
    const { png } = await svgToPng(svg);
    await mlflow.uploadArtifact(run.artifactUri, 'monitor/calibration.png', png);
  } catch (error) {
    input.logger.warn({ err: error }, 'could not render the PNG copy of the live calibration plot');
  }
  await mlflow.uploadArtifact(
    run.artifactUri,
    'monitor/report.json',
    Buffer.from(`${JSON.stringify(input.report, null, 2)}\n`),
  );
  // Each invocation appends and ends: FINISHED at its last look, not a run "Running" for ever.
  await mlflow.finishRun(run.runId, 'FINISHED');
  return mlflowLinks.run(mlflow.trackingUri, run.experimentId, run.runId);
}
