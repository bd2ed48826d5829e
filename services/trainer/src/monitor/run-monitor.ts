import type { MlflowClient } from '@fallback-ctr/mlflow';
import { migratePredictionLog, readLabelledPredictions } from '@fallback-ctr/prediction-log';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type pg from 'pg';
import type { TrainerConfig } from '../config.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { readAliases } from '../pipeline/promote.js';
import { type RollbackResult, rollbackChampion } from '../rollback.js';
import { type FieldDrift, fieldDrift, type Window } from './field-drift.js';
import { type GuardDecision, guardCalibration } from './guard.js';
import { type LiveQuality, liveQuality } from './live-quality.js';
import type { MonitorSettings } from './monitor-env.js';
import { logMonitoring, MonitorVersionTag, trainingWindow } from './monitor-tracking.js';
import { monitorGauges, pushGauges, writeGaugesFile } from './prometheus-export.js';

const HOUR_MS = 3_600_000;

export interface MonitorDeps {
  config: TrainerConfig;
  settings: MonitorSettings;
  mlflow: MlflowClient;
  db: pg.Pool;
  logger: Logger;
  kubeConfig: () => KubeConfig;
  signal?: AbortSignal;
  /** Default: MONITOR_NOW, else the clock. */
  now?: Date;
}

export interface MonitorReport {
  modelName: string;
  at: string;
  champion: string | null;
  /** Hours read: [from, to), to = the last whole hour whose attribution window has closed. */
  window: { from: string; to: string };
  overall: LiveQuality[];
  hourly: LiveQuality[];
  guard: GuardDecision | null;
  /** Fields by PSI between the champion's training window and the last MONITOR_HOURS of traffic, most moved first. */
  drift: FieldDrift[];
  driftWindows: { reference: Window; recent: Window } | null;
  /** Set when the guard fired and GUARD_AUTO_ROLLBACK moved champion back. */
  rolledBack: RollbackResult | null;
  /** The monitoring run of each version, in MLflow. */
  runLinks: Record<string, string>;
}

const fmt = (v: number, digits = 4) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/**
 * The live monitor: joins the logged predictions with the click logs once the attribution window has
 * passed and measures every served version per hour; logs that to each version's monitoring run in
 * MLflow (metrics by hour, a calibration plot, the report) and to its registry tags; judges the
 * champion's calibration with the guard; measures drift per field; exports Prometheus gauges; and,
 * when the guard fires and GUARD_AUTO_ROLLBACK is on, rolls back exactly as `rollback` does.
 */
export async function runMonitor(deps: MonitorDeps): Promise<MonitorReport> {
  const { config, settings, mlflow, db, logger } = deps;
  const modelName = config.mlflow.modelName;
  const schema = config.clicklogSchema;
  const now = deps.now ?? settings.now ?? new Date();
  const attributionMs = config.window.attributionWindowMinutes * 60_000;
  const to = new Date(Math.floor((now.getTime() - attributionMs) / HOUR_MS) * HOUR_MS);
  const from = new Date(to.getTime() - settings.hours * HOUR_MS);
  const { champion } = await readAliases(mlflow, modelName);

  let rows: Awaited<ReturnType<typeof readLabelledPredictions>>;
  try {
    await migratePredictionLog({ db, schema });
    rows = await readLabelledPredictions({
      db,
      schema,
      modelName,
      from,
      to,
      attributionWindowMinutes: config.window.attributionWindowMinutes,
      role: 'served',
    });
  } catch (error) {
    throw new TrainerError(
      TrainerErrorCode.MONITOR_READ_FAILED,
      `the monitor could not read the prediction log of ${modelName} in schema "${schema}": ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const { hourly, overall } = liveQuality(rows, { minClicksForAuc: settings.minClicksForAuc });
  const guard = champion === null ? null : guardCalibration(champion, hourly, settings.guard);

  let drift: FieldDrift[] = [];
  let driftWindows: MonitorReport['driftWindows'] = null;
  const reference = champion === null ? null : await trainingWindow(mlflow, modelName, champion);
  if (reference) {
    const recent = { from: new Date(now.getTime() - settings.hours * HOUR_MS), to: now };
    drift = await fieldDrift(db, schema, reference, recent);
    driftWindows = { reference, recent };
  }

  const report: MonitorReport = {
    modelName,
    at: now.toISOString(),
    champion,
    window: { from: from.toISOString(), to: to.toISOString() },
    overall,
    hourly,
    guard,
    drift,
    driftWindows,
    rolledBack: null,
    runLinks: {},
  };
  const band = { min: settings.guard.calibrationMin, max: settings.guard.calibrationMax };
  const versions = new Set(overall.map((q) => q.version));
  if (champion !== null) versions.add(champion);
  for (const version of versions) {
    const mine = guard?.version === version ? guard : undefined;
    report.runLinks[version] = await logMonitoring(mlflow, {
      modelName,
      experimentName: config.mlflow.experimentName,
      version,
      hourly,
      guard: mine,
      band,
      report: { ...report, hourly: hourly.filter((q) => q.version === version) },
      logger,
    });
    const whole = overall.find((q) => q.version === version);
    const tags: Record<string, string> = { [MonitorVersionTag.AT]: report.at };
    if (whole) {
      tags[MonitorVersionTag.CALIBRATION] = `${fmt(whole.calibration.value, 3)} ± ${fmt(whole.calibration.se, 3)}`;
      tags[MonitorVersionTag.IMPRESSIONS] = String(whole.impressions);
      tags[MonitorVersionTag.CLICKS] = String(whole.clicks);
    }
    if (mine) {
      tags[MonitorVersionTag.GUARD] = mine.state;
      tags[MonitorVersionTag.GUARD_REASON] = mine.reason.slice(0, 4_000);
      const top = drift[0];
      if (top && Number.isFinite(top.psi)) tags[MonitorVersionTag.TOP_DRIFT] = `${top.field} PSI ${top.psi.toFixed(3)}`;
    }
    for (const [key, value] of Object.entries(tags)) await mlflow.setModelVersionTag(modelName, version, key, value);
  }

  const gauges = monitorGauges({ modelName, overall, hourly, guard: guard ?? undefined, drift, at: now });
  if (settings.pushgatewayUrl) {
    try {
      await pushGauges(settings.pushgatewayUrl, modelName, gauges);
    } catch (error) {
      // The report, the MLflow run and the exit code still say what happened.
      logger.warn({ err: error }, `could not push the live gauges: ${errorMessage(error)}`);
    }
  }
  if (settings.metricsFile) await writeGaugesFile(settings.metricsFile, gauges);

  if (guard?.state === 'alarm') {
    logger.error(
      { code: TrainerErrorCode.GUARD_ALARM, modelVersion: guard.version, hours: guard.hours },
      `guard: ${guard.reason}`,
    );
    if (settings.guard.autoRollback) {
      logger.warn({ modelVersion: guard.version }, 'GUARD_AUTO_ROLLBACK is on: rolling back to previous-champion');
      report.rolledBack = await rollbackChampion({
        config,
        mlflow,
        logger,
        kubeConfig: deps.kubeConfig,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      await mlflow.setModelVersionTag(
        modelName,
        guard.version,
        MonitorVersionTag.GUARD_REASON,
        `${guard.reason.slice(0, 3_800)}; rolled back to v${report.rolledBack.to}`,
      );
    }
  }
  return report;
}

/** The report for a terminal: per version its window, the champion's hours, the guard, the top movers. */
export function formatMonitorReport(r: MonitorReport, topFields: number): string {
  const lines = [
    `model:     ${r.modelName}`,
    `champion:  ${r.champion ?? '(none)'}`,
    `window:    ${r.window.from.slice(0, 16)} → ${r.window.to.slice(0, 16)} UTC (labels final)`,
    '',
    'version  impressions  clicks  Σp/Σy ± se        logloss ± se       auc ± se',
  ];
  for (const q of r.overall) {
    lines.push(
      [
        q.version.padEnd(8),
        String(q.impressions).padStart(11),
        String(q.clicks).padStart(7),
        ` ${fmt(q.calibration.value, 3)} ± ${fmt(q.calibration.se, 3)}`.padEnd(18),
        `${fmt(q.logloss.value)} ± ${fmt(q.logloss.se)}`.padEnd(18),
        `${fmt(q.auc.value)} ± ${fmt(q.auc.se)}`,
      ].join(' '),
    );
  }
  if (r.overall.length === 0) lines.push('(no logged predictions with final labels in the window)');
  if (r.guard) {
    lines.push('', `guard:     ${r.guard.state.toUpperCase()} (v${r.guard.version}) ${r.guard.reason}`);
    for (const h of r.guard.hours) {
      lines.push(`  ${h.hour.toISOString().slice(0, 13)}h  ${fmt(h.calibration, 3)} ± ${fmt(h.se, 3)}  ${h.verdict}`);
    }
  }
  if (r.rolledBack) lines.push(`rolled back: champion v${r.rolledBack.from ?? '-'} → v${r.rolledBack.to}`);
  if (r.driftWindows) {
    lines.push(
      '',
      `drift (PSI, training window ${r.driftWindows.reference.from.toISOString().slice(0, 10)}–${r.driftWindows.reference.to.toISOString().slice(0, 10)} vs the last hours):`,
    );
    for (const d of r.drift.slice(0, topFields)) {
      const mover = d.mover
        ? `  ${d.mover.value ?? '(missing)'}: ${(100 * d.mover.reference).toFixed(1)}% → ${(100 * d.mover.recent).toFixed(1)}%`
        : '';
      lines.push(`  ${d.field.padEnd(24)} ${fmt(d.psi, 3)}${mover}`);
    }
  }
  const links = Object.entries(r.runLinks);
  if (links.length > 0) lines.push('', ...links.map(([v, url]) => `monitoring run v${v}: ${url}`));
  return lines.join('\n');
}
