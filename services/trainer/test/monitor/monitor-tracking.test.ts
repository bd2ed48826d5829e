import { silentLogger } from '@fallback-ctr/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveQuality } from '../../src/monitor/live-quality.js';
import { logMonitoring } from '../../src/monitor/monitor-tracking.js';
import { cleanUp, mlflowClient, registerVersions, trackingUri, uniqueSuffix } from '../support/e2e.js';

const HOUR = 3_600_000;
const mlflow = mlflowClient();
const modelName = `monitor-steps-${uniqueSuffix()}`;
/** The training window of the version watched: it ends half-way through an hour. */
const WINDOW_TO = new Date('2026-03-05T00:30:00.000Z');

function hour(at: Date, calibration: number): LiveQuality {
  return {
    version: '1',
    hour: at,
    impressions: 1_000,
    clicks: 20,
    sumPredicted: 20 * calibration,
    calibration: { value: calibration, se: 0.1 },
    logloss: { value: 0.09, se: 0.01 },
    auc: { value: Number.NaN, se: Number.NaN },
  };
}

/** The metric's whole history as MLflow's REST API gives it (the chart's points). */
async function history(runId: string, key: string): Promise<{ step: number; timestamp: number; value: number }[]> {
  const url = `${trackingUri()}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=${key}`;
  const body = (await (await fetch(url)).json()) as { metrics?: { step?: string; timestamp: string; value: number }[] };
  return (body.metrics ?? [])
    .map((m) => ({ step: Number(m.step ?? 0), timestamp: Number(m.timestamp), value: m.value }))
    .sort((a, b) => a.step - b.step);
}

describe('the monitoring run’s hourly metrics', () => {
  beforeAll(async () => {
    const run = await registerVersions(mlflow, modelName, 1);
    await mlflow.logParams(run.info.runId, {
      'window.from': '2026-03-01T00:00:00.000Z',
      'window.to': WINDOW_TO.toISOString(),
    });
  });
  afterAll(() => cleanUp(modelName, []));

  it('are stepped by the version’s age in hours (not hours since 1970) and stamped with their hour', async () => {
    const first = new Date('2026-03-05T08:00:00.000Z');
    const second = new Date(first.getTime() + HOUR);
    const input = {
      modelName,
      experimentName: modelName,
      version: '1',
      guard: undefined,
      band: { min: 0.8, max: 1.25 },
      report: {},
      logger: silentLogger(),
    };
    await logMonitoring(mlflow, { ...input, hourly: [hour(first, 1.1)] });
    // A later pass appends the next hour and logs the first again: the same point, not a new one.
    await logMonitoring(mlflow, { ...input, hourly: [hour(first, 1.1), hour(second, 0.9)] });
    const experiment = await mlflow.getExperimentByName(modelName);
    const [run] = await mlflow.searchAllRuns({
      experimentIds: [experiment!.experimentId],
      filter: `tags.\`fallback_ctr.monitored_version\` = '1'`,
    });
    // The hour holding the window's end (00:00) is step 0: 08:00 is hour 8 of the model's life.
    expect(await history(run!.info.runId, 'live.calibration')).toEqual([
      { step: 8, timestamp: first.getTime(), value: 1.1 },
      { step: 9, timestamp: second.getTime(), value: 0.9 },
    ]);
  });
});
