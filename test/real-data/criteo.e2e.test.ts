import { importLog, migrate } from '@fallback-ctr/clicklog';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../services/trainer/src/cli.js';
import * as e2e from '../../services/trainer/test/support/e2e.js';
import { CRITEO_WINDOW, criteoFeatureSpec, criteoMapping, criteoSample } from './criteo-xlearn-sample.js';
import { realSampleEnv } from './real-sample-env.js';

/**
 * The second real sample end to end: 400 Criteo display-ad rows from the xlearn sdist (fetched from
 * PyPI with pip and cached), split by row order (test/real-data/criteo-xlearn-sample.ts).
 */
const { cli, databaseUrl, trackingUri } = e2e;
const suffix = e2e.uniqueSuffix();
const schema = `criteo_e2e_${suffix}`;
const modelName = `criteo-e2e-${suffix}`;
const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
const mlflow = e2e.mlflowClient();

function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const target = { databaseUrl: databaseUrl(), trackingUri: trackingUri(), schema, modelName };
  return realSampleEnv({ ...target, window: CRITEO_WINDOW, featureSpec: criteoFeatureSpec }, extra);
}

describe('Criteo rows from the xlearn sdist end to end', () => {
  beforeAll(async () => {
    await migrate({ db: pool, schema });
    const result = await importLog({ db: pool, schema, file: await criteoSample(), mapping: criteoMapping });
    expect(result).toMatchObject({ rows: 400, imported: 400, badRows: 0, clicks: { imported: 94 } });
  }, 300_000);
  afterAll(async () => {
    await e2e.cleanUp(modelName, [schema]);
    await pool.end();
  });

  it('with the defaults alone the run ends SKIPPED: 400 rows are under DATA_MIN_ROWS, nothing registered', {
    timeout: 300_000,
  }, async () => {
    const { code, logs } = await cli(['run'], userEnv());
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1)?.outcome).toBe('SKIPPED');
    expect(String(logs.at(-1)?.msg)).toMatch(/only 400 labelled impressions .*DATA_MIN_ROWS = 1,000/);
    expect((await mlflow.searchAllModelVersions({ name: modelName })).length).toBe(0);
  });

  it('with DATA_MIN_ROWS=100: trained on the training file, judged on the test file, every gate reason true', {
    timeout: 300_000,
  }, async () => {
    const { code, logs } = await cli(['run'], userEnv({ DATA_MIN_ROWS: '100' }));
    expect(code).toBe(ExitCode.OK);
    const last = logs.at(-1);
    expect(last?.outcome).toBe('REJECTED'); // 400 rows cannot meet the gate's minimum sizes
    const run = await mlflow.getRun(String(last?.runId));
    const { metrics, params } = run.data;
    for (const [key, value] of Object.entries(metrics)) expect(Number.isFinite(value), key).toBe(true);
    // small_train.txt is the training part and small_test.txt the holdout, as the split by row order says.
    expect(metrics).toMatchObject({ train_rows: 200, train_clicks: 48, holdout_rows: 200, holdout_clicks: 46 });
    // Its 40-row validation slice cannot rank the search's candidates: the run keeps the FTRL
    // defaults, says why in its log and its params, and records no candidate.
    expect(params['search.ran']).toBe('false');
    expect(params['search.skipped']).toMatch(/40 rows < TRAIN_SEARCH_MIN_VALIDATION_ROWS = 1,000/);
    expect(params).toMatchObject({ 'ftrl.alpha': '0.1', 'ftrl.l1': '1', 'ftrl.l2': '1', 'train.passes': '1' });
    expect(logs.some((l) => String(l.msg).startsWith('hyper-parameter search skipped'))).toBe(true);
    expect(await e2e.searchTrials(mlflow, run)).toHaveLength(0);
    const reasons = [...String(last?.msg).matchAll(/([a-z_]+) = (-?[\d.e+-]+)(?: ± [\d.e+-]+ SE)? \(must be/g)];
    expect(reasons.map(([, name]) => name)).toEqual(expect.arrayContaining(['train_rows', 'holdout_rows']));
    for (const [, name, value] of reasons) {
      const metric = metrics[name as string] ?? metrics[`holdout_${name}`];
      expect(metric, `${name} in the run's metrics`).toBeDefined();
      expect(Number(value)).toBeCloseTo(metric as number, 3);
    }
  });
});
