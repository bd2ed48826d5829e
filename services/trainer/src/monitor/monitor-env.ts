import { type Env, envBoolean, envInt, envNumber, parseEnv } from '@fallback-ctr/runtime';
import { z } from 'zod';

const positive = () => envNumber().refine((v) => v > 0, 'a number > 0');

/**
 * Environment variables of the live monitor (`trainer monitor`, and the optional step of `run`). The
 * click logs, the attribution window and the model name are the trainer's own variables.
 */
export const MonitorEnvSchema = z.object({
  MONITOR_ON_RUN: envBoolean()
    .default(false)
    .describe('Also run the live monitor at the end of `run` (after the lock is released).'),
  MONITOR_HOURS: envInt(1, 24 * 31)
    .default(24)
    .describe(
      'Hours of logged predictions the monitor reads, ending one attribution window ago (younger ones have no final labels).',
    ),
  MONITOR_MIN_CLICKS_FOR_AUC: envInt(1, 1_000_000)
    .default(30)
    .describe('An hour with fewer clicks reports no AUC (it would be noise).'),
  GUARD_CALIBRATION_MIN: positive()
    .default(0.8)
    .describe('Lowest acceptable live calibration Σp/Σy of the champion in an hour.'),
  GUARD_CALIBRATION_MAX: positive()
    .default(1.25)
    .describe('Highest acceptable live calibration Σp/Σy of the champion in an hour.'),
  GUARD_Z: envNumber()
    .refine((v) => v >= 0 && v <= 10, 'a number in [0, 10]')
    .default(2)
    .describe(
      'An hour counts as outside the band only when calibration ± GUARD_Z standard errors lies wholly outside it.',
    ),
  GUARD_HOURS: envInt(1, 24 * 31)
    .default(3)
    .describe('The guard fires when the champion’s last this many hours with traffic are all outside the band.'),
  GUARD_AUTO_ROLLBACK: envBoolean()
    .default(false)
    .describe('When the guard fires, roll back to previous-champion (same verification and rollout as `rollback`).'),
  MONITOR_PUSHGATEWAY_URL: z
    .url()
    .optional()
    .describe(
      'Prometheus Pushgateway to push the live gauges to (job fallback-ctr-monitor, grouped by model): what a CronJob uses, it is gone before a scrape.',
    ),
  MONITOR_METRICS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("Also write the gauges to this file (node_exporter's textfile collector format), replaced atomically."),
  MONITOR_NOW: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('The monitor’s "now" (RFC 3339); default: the clock. For replays and tests.'),
  DRIFT_TOP_FIELDS: envInt(1, 100).default(5).describe('Fields listed as the top movers of the drift report.'),
});
export type MonitorEnv = z.output<typeof MonitorEnvSchema>;

export interface MonitorSettings {
  /** Run the monitor as the last step of `run`. */
  onRun: boolean;
  hours: number;
  minClicksForAuc: number;
  guard: { calibrationMin: number; calibrationMax: number; z: number; hours: number; autoRollback: boolean };
  pushgatewayUrl: string | undefined;
  metricsFile: string | undefined;
  driftTopFields: number;
  /** Fixed "now", or undefined for the clock. */
  now: Date | undefined;
}

/** Reads the MONITOR_*, GUARD_* and DRIFT_* variables; throws one ConfigError listing every bad one. */
export function loadMonitorSettings(env: Env = process.env): MonitorSettings {
  const schema = MonitorEnvSchema.superRefine((e, ctx) => {
    if (e.GUARD_CALIBRATION_MIN >= e.GUARD_CALIBRATION_MAX) {
      ctx.addIssue({ code: 'custom', path: ['GUARD_CALIBRATION_MIN'], message: 'a value < GUARD_CALIBRATION_MAX' });
    }
  });
  const e = parseEnv(schema, env);
  return {
    onRun: e.MONITOR_ON_RUN,
    hours: e.MONITOR_HOURS,
    minClicksForAuc: e.MONITOR_MIN_CLICKS_FOR_AUC,
    guard: {
      calibrationMin: e.GUARD_CALIBRATION_MIN,
      calibrationMax: e.GUARD_CALIBRATION_MAX,
      z: e.GUARD_Z,
      hours: e.GUARD_HOURS,
      autoRollback: e.GUARD_AUTO_ROLLBACK,
    },
    pushgatewayUrl: e.MONITOR_PUSHGATEWAY_URL,
    metricsFile: e.MONITOR_METRICS_FILE,
    driftTopFields: e.DRIFT_TOP_FIELDS,
    now: e.MONITOR_NOW === undefined ? undefined : new Date(e.MONITOR_NOW),
  };
}

/** The variable names, for manifests and docs. */
export const MONITOR_ENV_NAMES: readonly string[] = Object.keys(MonitorEnvSchema.shape);
