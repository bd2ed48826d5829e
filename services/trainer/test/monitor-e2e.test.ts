import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, RAW_COLUMNS, type RawImpression } from '@fallback-ctr/model';
import { createPredictionLogWriter, migratePredictionLog } from '@fallback-ctr/prediction-log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SCREENSHOT_DIR, screenshot } from '../../../test/support/browser.js';
import {
  PUSHGATEWAY_AVAILABLE,
  type Pushgateway,
  parseExposition,
  startPushgateway,
} from '../../../test/support/pushgateway.js';
import { mlflowLinks } from '../src/mlflow-links.js';
import { loadVersion } from '../src/registry.js';
import {
  cli,
  DAYS,
  databaseUrl,
  e2eNames,
  mlflowClient,
  START,
  seedTraffic,
  trackingUri,
  trainerEnv,
} from './support/e2e.js';
import { mlflowUi } from './support/mlflow-ui.js';

/**
 * Acceptance of the live monitor (issue 18) on a drifting synthetic world: four normal days train the
 * champion; day 4 is the same world with live-sized traffic; from day 5 on the world shifts (true CTR
 * × 0.25, traffic moves to one device type). The
 * champion's scores of served impressions are logged as the inference API logs them, and `monitor`
 * must pass it on normal hours, flag it within GUARD_HOURS on shifted ones, and roll it back only when
 * GUARD_AUTO_ROLLBACK is on. Real PostgreSQL and MLflow.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const names = e2eNames();
const schema = names.schema('monitor_e2e');
const modelName = names.model('monitor-e2e');
/** Day 4: the trained world at live volume (enough clicks per hour for a tight Σp/Σy); day 5 on: shifted. */
const NORMAL_DAY = DAYS;
const SHIFT_DAY = DAYS + 1;
const LIVE_IMPRESSIONS_PER_DAY = 200_000;
const LOGGED_HOURS = 10;
const GUARD_HOURS = 3;
let pool: pg.Pool;
/** A real Prometheus Pushgateway on loopback (scripts/pushgateway.sh), which every monitor run pushes to. */
let pushgateway: Pushgateway | undefined;
const work = mkdtempSync(join(tmpdir(), 'monitor-e2e-'));

/** The impressions the ad server logged in [from, to), as /predict receives them. */
async function impressions(from: Date, to: Date): Promise<{ id: string; servedAt: Date; raw: RawImpression }[]> {
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT id, served_at, ${RAW_COLUMNS.join(', ')}, context FROM ${schema}.impressions
     WHERE served_at >= $1 AND served_at < $2 ORDER BY served_at`,
    [from, to],
  );
  return rows.map((r) => {
    const raw: Record<string, unknown> = { context: r.context };
    for (const column of RAW_COLUMNS) if (r[column] !== null) raw[column] = r[column];
    return { id: String(r.id), servedAt: r.served_at as Date, raw: raw as RawImpression };
  });
}

/** Scores the impressions of [from, to) with `version` and logs them as its served predictions. */
async function serveAndLog(version: string, from: Date, to: Date): Promise<number> {
  const model = await loadVersion(mlflowClient(), modelName, version);
  const writer = createPredictionLogWriter({
    databaseUrl: databaseUrl(),
    schema,
    sampleRate: 1,
    maxQueue: 1_000_000,
    batchSize: 5_000,
    flushIntervalMs: 60_000,
    writeTimeoutMs: 30_000,
  });
  const served = { name: modelName, version, role: 'served' as const };
  let logged = 0;
  for (const imp of await impressions(from, to)) {
    const scores = model.scorer.scoreBatch([imp.raw], new Float64Array(1));
    logged += writer.record(served, [{ id: imp.id }], scores, imp.servedAt);
  }
  await writer.close(60_000);
  expect(writer.stats().written).toBe(logged);
  return logged;
}

const monitorEnv = (now: Date, extra: Record<string, string> = {}) =>
  trainerEnv(schema, modelName, {
    MONITOR_NOW: now.toISOString(),
    MONITOR_HOURS: String(LOGGED_HOURS),
    GUARD_HOURS: String(GUARD_HOURS),
    GUARD_CALIBRATION_MIN: '0.8',
    GUARD_CALIBRATION_MAX: '1.25',
    MONITOR_METRICS_FILE: join(work, 'monitor.prom'),
    ...(pushgateway ? { MONITOR_PUSHGATEWAY_URL: pushgateway.url } : {}),
    ...extra,
  });

/** "now" such that the monitor's window ends exactly at `end` (one attribution window, 60 min, later). */
const nowFor = (end: Date) => new Date(end.getTime() + HOUR);

beforeAll(async () => {
  if (PUSHGATEWAY_AVAILABLE) pushgateway = await startPushgateway();
  pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  const shift = { fromDay: SHIFT_DAY, ctrFactor: 0.25, deviceMix: true };
  // Days 0-3 (training) as usual, then days 4-5 of the same traffic appended at live volume.
  await seedTraffic(schema, { shift });
  await seedTraffic(schema, {
    replace: false,
    firstDay: NORMAL_DAY,
    days: 2,
    impressionsPerDay: LIVE_IMPRESSIONS_PER_DAY,
    shift,
  });
  await migratePredictionLog({ db: pool, schema });
  // Two runs on the same four days: v2 champion, v1 previous-champion (where a rollback goes).
  for (let run = 0; run < 2; run++) {
    const { code, logs } = await cli(['run'], trainerEnv(schema, modelName));
    expect(code, JSON.stringify(logs.at(-1))).toBe(0);
    expect(logs.at(-1)?.outcome).toBe('PROMOTED');
  }
}, 600_000);

afterAll(async () => {
  await pushgateway?.stop();
  await pool?.end();
  rmSync(work, { recursive: true, force: true });
});

describe('trainer monitor on a drifting world', { timeout: 600_000 }, () => {
  it('passes the champion on the hours it was trained for (calibrated within its band)', async () => {
    const from = new Date(START.getTime() + NORMAL_DAY * DAY + 8 * HOUR);
    const end = new Date(from.getTime() + LOGGED_HOURS * HOUR);
    expect(await serveAndLog('2', from, end)).toBeGreaterThan(30_000);
    const { code, stdout, logs } = await cli(['monitor'], monitorEnv(nowFor(end)));
    expect(code, stdout).toBe(0);
    expect(stdout).toContain('guard:     OK (v2)');
    // Calibrated within the band, and measured tightly enough for that to mean something.
    const report = JSON.parse((await cli(['monitor', '--json'], monitorEnv(nowFor(end)))).stdout) as {
      guard: { hours: { calibration: number; se: number; verdict: string }[] };
    };
    for (const h of report.guard.hours) {
      expect(h.verdict).toBe('inside');
      expect(h.calibration).toBeGreaterThan(0.8);
      expect(h.calibration).toBeLessThan(1.25);
      expect(h.se).toBeLessThan(0.2);
    }
    expect(logs.some((l) => l.code === 'TRAINER_GUARD_ALARM')).toBe(false);
    const v2 = await mlflowClient().getModelVersion(modelName, '2');
    expect(v2.tags['monitor.guard']).toBe('ok');
  });

  it('flags the champion once the world has shifted, within GUARD_HOURS, and moves nothing without auto-rollback', async () => {
    const from = new Date(START.getTime() + SHIFT_DAY * DAY);
    const end = new Date(from.getTime() + LOGGED_HOURS * HOUR);
    await serveAndLog('2', from, end);
    // GUARD_HOURS shifted hours are enough to fire (the window still holds normal hours before them).
    const early = new Date(from.getTime() + GUARD_HOURS * HOUR);
    const first = await cli(['monitor', '--json'], monitorEnv(nowFor(early)));
    expect(first.code, first.stderr).toBe(4);
    const report = JSON.parse(first.stdout) as {
      guard: { state: string; version: string; hours: { verdict: string }[] };
      drift: { field: string; psi: number }[];
      rolledBack: unknown;
    };
    expect(report.guard.state).toBe('alarm');
    expect(report.guard.version).toBe('2');
    expect(report.guard.hours.map((h) => h.verdict)).toEqual(['above', 'above', 'above']);
    expect(report.rolledBack).toBeNull();
    const alarm = first.logs.find((l) => l.code === 'TRAINER_GUARD_ALARM');
    expect(alarm?.msg).toMatch(/live calibration Σp\/Σy of version 2 outside \[0\.8, 1\.25\]/);

    const mlflow = mlflowClient();
    expect((await mlflow.getModelVersionByAlias(modelName, CHAMPION_ALIAS)).version).toBe('2');
    const v2 = await mlflow.getModelVersion(modelName, '2');
    expect(v2.tags['monitor.guard']).toBe('alarm');
    expect(v2.tags['monitor.drift.top']).toMatch(/^[a-z_.]+ PSI \d\.\d{3}$/);
    // The Prometheus textfile says the same.
    const gauges = readFileSync(join(work, 'monitor.prom'), 'utf8');
    expect(gauges).toContain(`fallback_ctr_monitor_guard_alarm{model="${modelName}",version="2"} 1`);
    // The monitoring run holds one calibration point per hour measured so far and the plot.
    const experiment = await mlflow.getExperimentByName(modelName);
    const runs = await mlflow.searchAllRuns({
      experimentIds: [experiment!.experimentId],
      filter: `tags.\`fallback_ctr.monitored_version\` = '2'`,
    });
    expect(runs).toHaveLength(1);
    // Ended at its last look, with who ran it: not "Running" for ever with an empty user.
    expect(runs[0]!.info.status).toBe('FINISHED');
    expect(runs[0]!.data.tags['mlflow.user']).toBeTruthy();
    const artifacts = await mlflow.listArtifacts(runs[0]!.info.artifactUri, 'monitor');
    expect(artifacts.map((a) => a.path).sort()).toEqual(
      ['monitor/calibration.png', 'monitor/calibration.svg', 'monitor/report.json'].sort(),
    );

    // Once the recent window is all shifted traffic, the device mix stands out: device_type is among the
    // top movers (hour_of_day moves too, naturally: some hours of one day against whole days of training).
    const later = await cli(['monitor', '--json'], monitorEnv(nowFor(end)));
    expect(later.code).toBe(4);
    const drift = (JSON.parse(later.stdout) as typeof report).drift;
    const deviceType = drift.findIndex((d) => d.field === 'device_type');
    expect(deviceType).toBeGreaterThanOrEqual(0);
    expect(deviceType).toBeLessThan(3);
    expect(drift[deviceType]?.psi).toBeGreaterThan(0.1);

    // `status` shows it.
    const status = await cli(['status'], trainerEnv(schema, modelName));
    expect(status.stdout).toMatch(/live \(.*\): Σp\/Σy \d\.\d{3} ± \d\.\d{3} over \d+ impressions.*guard alarm/);
  });

  it.skipIf(!PUSHGATEWAY_AVAILABLE)(
    'pushed the same gauges to a real Pushgateway, which serves them to Prometheus under its job and model',
    async () => {
      // The last monitor run (the alarm above) pushed; the textfile holds what it pushed.
      const pushed = parseExposition(readFileSync(join(work, 'monitor.prom'), 'utf8'));
      const scraped = parseExposition(await pushgateway!.scrape());
      const group = { job: 'fallback-ctr-monitor', model: modelName, instance: '' };
      const ours = scraped.filter((s) => s.name.startsWith('fallback_ctr_monitor_'));
      expect(ours.length).toBe(pushed.length);
      expect(pushed.length).toBeGreaterThan(10);
      for (const sample of pushed) {
        const labels = { ...sample.labels, ...group };
        const found = ours.filter(
          (s) =>
            s.name === sample.name &&
            JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
        );
        expect(
          found.map((s) => s.value),
          `${sample.name} ${JSON.stringify(labels)}`,
        ).toEqual([sample.value]);
      }
      const alarm = ours.find((s) => s.name === 'fallback_ctr_monitor_guard_alarm');
      expect(alarm).toEqual({ name: 'fallback_ctr_monitor_guard_alarm', labels: { ...group, version: '2' }, value: 1 });
      // The Pushgateway's own record of the push: a success, no failure.
      const pushTime = scraped.find((s) => s.name === 'push_time_seconds' && s.labels.model === modelName);
      expect(pushTime?.value).toBeGreaterThan(Date.now() / 1000 - 3_600);
      const failure = scraped.find((s) => s.name === 'push_failure_time_seconds' && s.labels.model === modelName);
      expect(failure?.value).toBe(0);
    },
  );

  it('shows the monitoring run in MLflow (hourly metrics and the calibration plot) and live quality in status', async () => {
    const mlflow = mlflowClient();
    const experimentId = (await mlflow.getExperimentByName(modelName))!.experimentId;
    const [monitoring] = await mlflow.searchAllRuns({
      experimentIds: [experimentId],
      filter: `tags.\`fallback_ctr.monitored_version\` = '2'`,
    });
    const runUrl = mlflowLinks.run(trackingUri(), experimentId, monitoring!.info.runId);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const ui = mlflowUi(page);
      await ui.open(runUrl);
      await ui.visible('v2 live monitor');
      await ui.visible('Finished');
      await ui.visible('live.calibration');
      await ui.visible(/Live quality of .* version 2/);
      await ui.closeAssistant();
      await screenshot(page, 'mlflow-monitor-run', { fullPage: true });
      await ui.open(runUrl.replace('?', '/model-metrics?'));
      await ui.visible('live.calibration_se');
      // Step = the version's age in hours (8-33 here), which the axis shows as it is, not as "492.42k".
      const ticks = await ui.xTicks();
      expect(ticks.length).toBeGreaterThan(0);
      for (const tick of ticks) expect(tick).toMatch(/^\d{1,2}$/);
      await ui.closeAssistant();
      await screenshot(page, 'mlflow-monitor-metrics', { fullPage: true });
      await ui.openImageArtifact(runUrl, 'monitor/calibration.png');
      await ui.closeAssistant();
      await screenshot(page, 'mlflow-monitor-plot');
    } finally {
      await browser.close();
    }
    // What ops reads in a terminal, kept beside the screenshots.
    const status = await cli(['status'], trainerEnv(schema, modelName));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    writeFileSync(join(SCREENSHOT_DIR, 'status-live.txt'), status.stdout);
    expect(status.stdout).toMatch(/^champion:\s+2$/m);
    expect(status.stdout).toMatch(
      /live \(.* UTC\): Σp\/Σy \d\.\d{3} ± \d\.\d{3} over \d+ impressions, \d+ clicks; guard alarm/,
    );
  });

  it('with GUARD_AUTO_ROLLBACK, rolls the champion back to previous-champion as `rollback` does', async () => {
    const end = new Date(START.getTime() + SHIFT_DAY * DAY + LOGGED_HOURS * HOUR);
    const { code, stdout, logs } = await cli(['monitor'], monitorEnv(nowFor(end), { GUARD_AUTO_ROLLBACK: 'true' }));
    expect(code, stdout).toBe(4);
    expect(stdout).toContain('rolled back: champion v2 → v1');
    expect(logs.at(-1)?.msg).toContain('rolled back to version 1');
    const mlflow = mlflowClient();
    expect((await mlflow.getModelVersionByAlias(modelName, CHAMPION_ALIAS)).version).toBe('1');
    expect((await mlflow.getModelVersionByAlias(modelName, PREVIOUS_CHAMPION_ALIAS)).version).toBe('2');
    const v2 = await mlflow.getModelVersion(modelName, '2');
    expect(v2.tags.promotion).toBe('rolled-back');
    expect(v2.tags['monitor.guard.reason']).toContain('rolled back to v1');
  });
});
