import { importLog, migrate } from '@fallback-ctr/clicklog';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../services/trainer/src/cli.js';
import {
  cleanUp,
  cli,
  databaseUrl,
  mlflowClient,
  trackingUri,
  uniqueSuffix,
} from '../../services/trainer/test/support/e2e.js';
import {
  OPEN_BANDIT_WINDOW,
  openBanditFeatureSpec,
  openBanditMapping,
  openBanditSample,
} from './open-bandit-sample.js';
import { realSampleEnv } from './real-sample-env.js';

/**
 * A real public click log end to end, as a new user runs it: `clicklog import` of the Open Bandit
 * Dataset sample (fetched from PyPI with pip and cached) → `trainer run` with the defaults plus a
 * FEATURE_SPEC naming its fields.
 */
const suffix = uniqueSuffix();
const schema = `obd_e2e_${suffix}`;
const lateSchema = `obd_e2e_late_${suffix}`;
const modelName = `obd-e2e-${suffix}`;
const refusedModel = `obd-e2e-refused-${suffix}`;
const { end: WINDOW_END, holdoutHours: HOLDOUT_HOURS } = OPEN_BANDIT_WINDOW;
const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
const mlflow = mlflowClient();

/** The user's environment: where the data is, which week, which fields. Everything else is a default. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const target = { databaseUrl: databaseUrl(), trackingUri: trackingUri(), schema, modelName };
  return realSampleEnv({ ...target, window: OPEN_BANDIT_WINDOW, featureSpec: openBanditFeatureSpec }, extra);
}

/** Impressions and clicks of [from, to) counted in SQL, independently of the trainer's reader. */
async function counted(from: string, to: string) {
  const { rows } = await pool.query<{ rows: number; clicks: number }>(
    `SELECT count(*)::int AS rows,
            count(*) FILTER (WHERE EXISTS (
              SELECT 1 FROM ${schema}.clicks c WHERE c.impression_id = i.id
                AND c.clicked_at >= i.served_at AND c.clicked_at <= i.served_at + interval '60 minutes'))::int AS clicks
       FROM ${schema}.impressions i WHERE i.served_at >= $1 AND i.served_at < $2`,
    [from, to],
  );
  return rows[0] as { rows: number; clicks: number };
}

describe('a real click log (Open Bandit Dataset sample) end to end', () => {
  beforeAll(async () => {
    const sample = await openBanditSample();
    await migrate({ db: pool, schema });
    for (const policy of ['random', 'bts'] as const) {
      const result = await importLog({ db: pool, schema, file: sample[policy], mapping: openBanditMapping(policy) });
      expect(result).toMatchObject({ rows: 10_000, imported: 10_000, badRows: 0 });
    }
    // The same log, but every click two hours after its impression: past the attribution window.
    await migrate({ db: pool, schema: lateSchema });
    const late = await importLog({
      db: pool,
      schema: lateSchema,
      file: sample.random,
      mapping: { ...openBanditMapping('random'), clickDelaySeconds: 7200 },
    });
    expect(late.clicks.imported).toBeGreaterThan(0);
  }, 300_000);
  afterAll(async () => {
    await cleanUp(modelName, [schema]);
    await cleanUp(refusedModel, [lateSchema]);
    await pool.end();
  });

  const versions = async (name: string) => (await mlflow.searchAllModelVersions({ name })).length;

  it('clicklog import → trainer run with defaults + FEATURE_SPEC: a gate decision whose every reason is true', {
    timeout: 300_000,
  }, async () => {
    const { code, logs } = await cli(['run'], userEnv());
    expect(code).toBe(ExitCode.OK);
    const last = logs.at(-1);
    expect(['PROMOTED', 'REJECTED']).toContain(last?.outcome);
    const runId = String(last?.runId);
    const { metrics } = (await mlflow.getRun(runId)).data;
    for (const [key, value] of Object.entries(metrics)) expect(Number.isFinite(value), key).toBe(true);

    const cut = new Date(Date.parse(WINDOW_END) - HOLDOUT_HOURS * 3_600_000).toISOString();
    const train = await counted('2019-11-24T00:00:00Z', cut);
    const holdout = await counted(cut, WINDOW_END);
    expect(metrics).toMatchObject({
      train_rows: train.rows,
      train_clicks: train.clicks,
      holdout_rows: holdout.rows,
      holdout_clicks: holdout.clicks,
    });
    // Each failed check names a value that is the run's own metric (or the SQL count above).
    const reasons = [...String(last?.msg).matchAll(/([a-z_]+) = (-?[\d.e+-]+) \(must be/g)];
    if (last?.outcome === 'REJECTED') expect(reasons.length).toBeGreaterThan(0);
    for (const [, name, value] of reasons) {
      const metric = metrics[name as string] ?? metrics[`holdout_${name}`];
      expect(metric, `${name} in the run's metrics`).toBeDefined();
      expect(Number(value)).toBeCloseTo(metric as number, 3);
    }
  });

  it('clicks all later than the attribution window: the run ends SKIPPED with the reason, nothing registered', {
    timeout: 300_000,
  }, async () => {
    const { code, logs } = await cli(['run'], userEnv({ CLICKLOG_SCHEMA: lateSchema, MODEL_NAME: refusedModel }));
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1)?.outcome).toBe('SKIPPED');
    expect(String(logs.at(-1)?.msg)).toMatch(/no clicks in the training part.*ATTRIBUTION_WINDOW_MINUTES/);
    expect(await versions(refusedModel)).toBe(0);
    expect(JSON.stringify(logs)).not.toMatch(/NaN|null,"msg":"holdout/);
    const runIds = new Set(logs.map((l) => l.runId).filter((id): id is string => typeof id === 'string'));
    for (const runId of runIds) {
      const { metrics } = (await mlflow.getRun(runId)).data;
      for (const [key, value] of Object.entries(metrics)) expect(Number.isFinite(value), key).toBe(true);
    }
  });

  it('the default feature spec on this foreign data fails before training, naming the absent fields', {
    timeout: 300_000,
  }, async () => {
    const env = userEnv({ MODEL_NAME: refusedModel });
    delete env.FEATURE_SPEC;
    const { code, logs } = await cli(['run'], env);
    expect(code).toBe(ExitCode.ERROR);
    expect(logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: 'TRAINER_DATA_COVERAGE' });
    const message = String(logs.at(-1)?.msg);
    expect(message).toMatch(/placement \(column\) 0(\.0+)? ?%/);
    expect(message).toMatch(/site_category \(context\) 0(\.0+)? ?%/);
    expect(message).not.toMatch(/ad_id \(column\)|slot_id \(column\)/); // present in every row
    expect(message).toContain('FEATURE_SPEC');
    expect(await versions(refusedModel)).toBe(0);
  });
});
