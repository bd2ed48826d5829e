import { requireDatabaseUrl } from '../config.js';
import { TrainerErrorCode } from '../errors.js';
import { formatMonitorReport, type MonitorReport, runMonitor } from '../monitor/run-monitor.js';
import { type CommandContext, defineCommand, ExitCode, flagOption, writeLine } from './command.js';
import { openDatabasePool } from './database-pool.js';

/** One monitor pass with the command's settings, clients and signal, on a database pool of its own. */
export async function monitorOnce(ctx: CommandContext): Promise<MonitorReport> {
  const db = openDatabasePool(requireDatabaseUrl(ctx.config), 'fallback-ctr-monitor', ctx.logger);
  try {
    return await runMonitor({
      config: ctx.config,
      settings: ctx.monitor,
      mlflow: ctx.mlflow,
      db,
      logger: ctx.logger,
      kubeConfig: ctx.io.kubeConfig,
      signal: ctx.signal,
    });
  } finally {
    await db.end();
  }
}

export const monitorCommand = defineCommand({
  name: 'monitor',
  summary: 'live quality of the served versions, the guard on the champion, drift (for a CronJob)',
  description: `Joins the prediction log (PREDICTION_LOG_* on the inference API) with the click logs once the
attribution window has passed and reports, per served version and hour, impressions, clicks,
Σp/Σy, logloss and AUC with standard errors; logs them to the version's monitoring run in MLflow
(metrics by hour, plot monitor/calibration.png) and its registry tags (status shows them); pushes
Prometheus gauges (MONITOR_PUSHGATEWAY_URL, MONITOR_METRICS_FILE); measures drift (PSI per field,
champion's training window vs the last MONITOR_HOURS). The guard: when the champion's calibration
is outside [GUARD_CALIBRATION_MIN, GUARD_CALIBRATION_MAX] by more than GUARD_Z standard errors in each
of its last GUARD_HOURS hours, exit 4 (and with GUARD_AUTO_ROLLBACK=true, roll back as \`rollback\` does).`,
  options: {
    json: flagOption('machine-readable output'),
  },
  logTo: 'stderr',
  exitCodes: { [TrainerErrorCode.ROLLOUT_FAILED]: ExitCode.ROLLOUT_FAILED },
  async run(ctx, options) {
    const report = await monitorOnce(ctx);
    writeLine(
      ctx.io.stdout,
      options.json ? JSON.stringify(report, null, 2) : formatMonitorReport(report, ctx.monitor.driftTopFields),
    );
    ctx.logger.info(
      {
        outcome: report.guard?.state === 'alarm' ? 'GUARD_ALARM' : 'MONITORED',
        champion: report.champion,
        guard: report.guard?.state ?? null,
        rolledBackTo: report.rolledBack?.to ?? null,
      },
      report.guard?.state === 'alarm'
        ? `monitor: guard ALARM on version ${report.guard.version}${report.rolledBack ? `, rolled back to version ${report.rolledBack.to}` : ' (GUARD_AUTO_ROLLBACK off: nothing moved)'}`
        : `monitor: ${report.overall.length} version(s) measured; guard ${report.guard?.state ?? 'not run (no champion)'}`,
    );
    return report.guard?.state === 'alarm' ? ExitCode.GUARD_ALARM : ExitCode.OK;
  },
});
