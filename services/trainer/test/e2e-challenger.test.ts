import { CHALLENGER_ALIAS, CHAMPION_ALIAS, PREVIOUS_CHAMPION_ALIAS, type RawImpression } from '@fallback-ctr/model';
import { createPredictionLogWriter, migratePredictionLog } from '@fallback-ctr/prediction-log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, type ServerProcess, serveModel } from '../../inference/test/server-process.js';
import { ExitCode } from '../src/cli.js';
import { loadVersion } from '../src/registry.js';
import { cli, DAYS, databaseUrl, e2eNames, mlflowClient, seedTraffic, trainerEnv, WINDOW_END } from './support/e2e.js';
import { type FakeKubeApi, startFakeKubeApi } from './support/fake-kube-api.js';

const names = e2eNames();
const modelName = names.model('trainer-e2e-challenger');
/** The world as it is. */
const cleanSchema = names.schema('trainer_e2e_chal_clean');
/** The same world with the ad id logged wrongly (clicks still follow the true ad): a model trained on it ranks worse. */
const brokenSchema = names.schema('trainer_e2e_chal_broken');
const championKey = 'fallback-ctr.io/model-version';
const challengerKey = 'fallback-ctr.io/challenger-version';
const mlflow = mlflowClient();
let kube: FakeKubeApi;

const env = (schema: string, extra: Record<string, string> = {}) =>
  trainerEnv(schema, modelName, { ROLLOUT_MODE: 'kubernetes', PROMOTE_VIA: 'challenger', ...extra });
const trainerCli = (argv: string[], schema: string, extra: Record<string, string> = {}) =>
  cli(argv, env(schema, extra), { kubeConfig: () => kube.kubeConfig() });
/** The live day: after every training window, a whole attribution window before SHADOW_WINDOW_END. */
const LIVE_FROM = WINDOW_END;
const LIVE_TO = new Date(WINDOW_END.getTime() + 86_400_000);
const shadowEnv = {
  SHADOW_WINDOW_END: new Date(LIVE_TO.getTime() + 2 * 3_600_000).toISOString(),
  SHADOW_MIN_HOURS: '12',
  SHADOW_MIN_IMPRESSIONS: '5000',
  SHADOW_MIN_CLICKS: '50',
};

/** The live day's impressions of the clean world, as the ad server sent them to /predict. */
async function liveImpressions(): Promise<{ id: string; servedAt: Date; impression: RawImpression }[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, unknown> & { id: string; served_at: Date }>(
      `SELECT * FROM ${cleanSchema}.impressions WHERE served_at >= $1 AND served_at < $2 ORDER BY served_at`,
      [LIVE_FROM, LIVE_TO],
    );
    return rows.map(({ id, served_at, ...fields }) => {
      const impression: RawImpression = {};
      for (const [k, v] of Object.entries(fields)) if (v !== null) Object.assign(impression, { [k]: v });
      return { id, servedAt: served_at, impression };
    });
  } finally {
    await client.end();
  }
}

/**
 * What pods with SHADOW_ALIAS=challenger and the prediction log on write for the live day: the
 * champion's served score and the challenger's shadow score of every impression, at its serving time.
 */
async function logLiveDay(champion: string, challenger: string): Promise<number> {
  const live = await liveImpressions();
  const writer = createPredictionLogWriter({
    databaseUrl: databaseUrl(),
    schema: cleanSchema,
    sampleRate: 1,
    maxQueue: 20_000,
    batchSize: 5_000,
    flushIntervalMs: 50,
    writeTimeoutMs: 60_000,
  });
  try {
    for (const [version, role] of [
      [champion, 'served'],
      [challenger, 'shadow'],
    ] as const) {
      const { scorer } = await loadVersion(mlflow, modelName, version);
      const model = { name: modelName, version, role };
      for (let i = 0; i < live.length; i++) {
        const { id, servedAt, impression } = live[i] as (typeof live)[number];
        expect(writer.record(model, [{ id }], [scorer.score(impression)], servedAt)).toBe(1);
        if (i % 5_000 === 4_999) await writer.flush();
      }
      await writer.flush();
    }
    expect(writer.stats().written).toBe(2 * live.length);
  } finally {
    await writer.close();
  }
  return live.length;
}

/**
 * The live day served by the real inference server, as a pod runs it (src/main.ts: cluster primary and
 * a worker, the aliases resolved in MLflow at start-up, SHADOW_ALIAS=challenger, the prediction log on):
 * the ad server's impressions are POSTed to /predict in batches; the server answers with the champion,
 * scores the challenger in shadow after each answer and writes both to the predictions table, flushing
 * on SIGTERM. The day is replayed in seconds, so the rows' scoring time is then set to the impression's
 * serving time (only that column: ids, versions, roles and scores stay as the server wrote them), which
 * puts them in the day `promote-challenger` reads.
 */
async function serveLiveDay(champion: string, challenger: string): Promise<number> {
  const live = await liveImpressions();
  const server: ServerProcess = await serveModel(modelName, {
    MODEL_ALIAS: CHAMPION_ALIAS,
    SHADOW_ALIAS: CHALLENGER_ALIAS,
    SHADOW_SHARE: '1',
    PREDICTION_LOG_DATABASE_URL: databaseUrl(),
    PREDICTION_LOG_SCHEMA: cleanSchema,
    PREDICTION_LOG_SAMPLE_RATE: '1',
    // Room for the whole day, served and shadow: nothing is dropped even if PostgreSQL is slow here.
    PREDICTION_LOG_QUEUE_SIZE: String(4 * live.length),
    PREDICTION_LOG_BATCH_SIZE: '5000',
    LOG_LEVEL: 'warn',
  });
  const answered = new Map<string, number>();
  try {
    await server.waitForStatus('/readyz', (status) => status === 200);
    const loaded = await (await fetch(`${server.url}/metrics`)).text();
    expect(loaded).toContain(`model_version="${challenger}",resolved_from="alias:${CHALLENGER_ALIAS}"} 1`);
    const batch = 500;
    for (let i = 0; i < live.length; i += batch) {
      const impressions = live.slice(i, i + batch).map(({ id, impression }) => ({ id, ...impression }));
      const response = await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ impressions }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { version: string; predictions: { id: string; ctr: number }[] };
      expect(body.version).toBe(champion);
      for (const p of body.predictions) answered.set(p.id, p.ctr);
    }
    // The shadow scores come after the answers: wait for all of them before stopping the server.
    const deadline = Date.now() + 120_000;
    while ((await metricSum(server.url, 'fallback_ctr_inference_shadow_predictions_total')) < live.length) {
      expect(Date.now(), 'shadow scoring of the live day').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await metricSum(server.url, 'fallback_ctr_inference_prediction_log_dropped_total')).toBe(0);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  } finally {
    server.kill('SIGKILL');
  }

  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ impression_id: string; model_version: string; role: string; score: number }>(
      `SELECT impression_id, model_version, role, score FROM ${cleanSchema}.predictions
       WHERE model_name = $1 AND model_version IN ($2, $3) AND served_at > now() - interval '1 hour'`,
      [modelName, champion, challenger],
    );
    const served = rows.filter((r) => r.role === 'served');
    const shadow = rows.filter((r) => r.role === 'shadow');
    expect(served.length).toBe(live.length);
    expect(shadow.length).toBe(live.length);
    expect(new Set(served.map((r) => r.model_version))).toEqual(new Set([champion]));
    expect(new Set(shadow.map((r) => r.model_version))).toEqual(new Set([challenger]));
    // What the ad server got is what was logged as served.
    for (const r of served) expect(r.score).toBeCloseTo(answered.get(r.impression_id) ?? Number.NaN, 12);
    const moved = await client.query(
      `UPDATE ${cleanSchema}.predictions p SET served_at = i.served_at FROM ${cleanSchema}.impressions i
       WHERE i.id = p.impression_id AND p.model_name = $1 AND p.model_version IN ($2, $3)
         AND p.served_at > now() - interval '1 hour'`,
      [modelName, champion, challenger],
    );
    expect(moved.rowCount).toBe(2 * live.length);
  } finally {
    await client.end();
  }
  return live.length;
}

const aliasVersion = async (alias: string) =>
  (await mlflow.getModelVersionByAlias(modelName, alias).catch(() => null))?.version ?? null;

/** A training run takes ~30 s on an idle machine and several times that at load 40. */
const RUN_TIMEOUT_MS = 480_000;

describe('PROMOTE_VIA=challenger end to end: real Postgres, real MLflow, the real inference server, Kubernetes API stand-in', {
  timeout: RUN_TIMEOUT_MS,
}, () => {
  beforeAll(async () => {
    kube = await startFakeKubeApi({ namespace: 'ads', deployment: 'inference' });
    // One day more than the runs train on (they end at WINDOW_END): that day is the live traffic.
    await seedTraffic(cleanSchema, { days: DAYS + 1 });
    await migratePredictionLog({ db: databaseUrl(), schema: cleanSchema });
    await seedTraffic(brokenSchema, {
      degrade: { mode: 'broken-feature', field: 'ad_id', kind: 'scrambled', fromDay: 0 },
    });
  });
  afterAll(async () => {
    await kube?.close();
  });

  it('1. no champion yet: a PASS becomes champion even in challenger mode', async () => {
    const { code, logs } = await trainerCli(['run'], brokenSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({ outcome: 'PROMOTED', modelVersion: '1' });
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBeNull();
    expect(kube.annotations()[championKey]).toBe('1');
  });

  it('2. a PASS over a champion becomes the challenger: champion untouched, pods rolled to load it', async () => {
    const patchesBefore = kube.patches.length;
    const { code, logs } = await trainerCli(['run'], cleanSchema);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({ outcome: 'CHALLENGER', modelVersion: '2' });
    expect(String(logs.at(-1)?.msg)).toMatch(/scored in shadow beside champion 1/);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBe('2');
    expect(kube.patches.length).toBe(patchesBefore + 1);
    expect(kube.annotations()).toMatchObject({ [championKey]: '1', [challengerKey]: '2' });
    const version = await mlflow.getModelVersion(modelName, '2');
    expect(version.tags).toMatchObject({ 'gate.outcome': 'PASS', promotion: 'challenger' });
    expect((await mlflow.getModelVersion(modelName, '1')).tags.promotion).toBe('promoted');
    // `status` names it, under the champion and as the alias of its version.
    const status = await trainerCli(['status'], cleanSchema);
    expect(status.code).toBe(ExitCode.OK);
    expect(status.stdout).toMatch(/^champion: +1$/m);
    expect(status.stdout).toMatch(/^challenger: +2 \(in shadow\)$/m);
    expect(status.stdout).toMatch(/^2 +PASS +challenger .* challenger$/m);
  });

  it('3. the better challenger, served in shadow by the real inference server: promote-challenger makes it champion', async () => {
    const live = await serveLiveDay('1', '2');
    expect(live).toBeGreaterThan(10_000);
    const { code, logs } = await trainerCli(['promote-challenger'], cleanSchema, shadowEnv);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({
      outcome: 'PROMOTED',
      champion: '1',
      challenger: '2',
    });
    expect(logs.at(-1)?.impressions).toBe(live);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('2');
    expect(await aliasVersion(PREVIOUS_CHAMPION_ALIAS)).toBe('1');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBeNull();
    expect(kube.annotations()[championKey]).toBe('2');
    expect(kube.annotations()[challengerKey]).toBeUndefined();
    const tags = (await mlflow.getModelVersion(modelName, '2')).tags;
    expect(tags).toMatchObject({ promotion: 'promoted', 'shadow.outcome': 'PROMOTE', 'shadow.champion_version': '1' });
    // Better, not merely not worse: the paired live logloss difference is negative beyond 2 SE.
    expect(Number(tags['shadow.logloss_diff'])).toBeLessThan(-2 * Number(tags['shadow.logloss_diff_se']));
    expect(Number(tags['shadow.impressions'])).toBe(live);
    expect((await mlflow.getModelVersion(modelName, '1')).tags.promotion).toBe('superseded');
    const status = await trainerCli(['status'], cleanSchema);
    expect(status.stdout).toMatch(/^champion: +2$/m);
    expect(status.stdout).toMatch(/^previous-champion: +1$/m);
    expect(status.stdout).not.toMatch(/^challenger:/m);
  });

  it('4. a worse challenger (it passed the gate on its own holdout) is refused on live traffic; champion stays', async () => {
    // The gate is loosened so a model of the broken log passes on its own (broken) holdout.
    const loose = { GATE_MAX_LOGLOSS_INCREASE: '1', GATE_MAX_AUC_DROP: '1' };
    const trained = await trainerCli(['run'], brokenSchema, loose);
    expect(trained.logs.at(-1), String(trained.logs.at(-1)?.msg)).toMatchObject({
      outcome: 'CHALLENGER',
      modelVersion: '3',
    });
    expect(kube.annotations()[challengerKey]).toBe('3');
    await logLiveDay('2', '3');
    const waiting = await trainerCli(['promote-challenger'], cleanSchema, { ...shadowEnv, SHADOW_MIN_HOURS: '48' });
    expect(waiting.logs.at(-1)).toMatchObject({ outcome: 'WAITING', challenger: '3' });
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBe('3');

    const { code, logs } = await trainerCli(['promote-challenger'], cleanSchema, shadowEnv);
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1), String(logs.at(-1)?.msg)).toMatchObject({ outcome: 'REFUSED', champion: '2', challenger: '3' });
    expect(String(logs.at(-1)?.msg)).toMatch(/live_logloss_vs_champion/);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('2');
    expect(await aliasVersion(CHALLENGER_ALIAS)).toBeNull();
    expect(kube.annotations()[championKey]).toBe('2');
    expect(kube.annotations()[challengerKey]).toBeUndefined();
    const tags = (await mlflow.getModelVersion(modelName, '3')).tags;
    expect(tags).toMatchObject({ promotion: 'refused', 'shadow.outcome': 'REFUSE' });
    expect(tags['shadow.reasons']).toMatch(/live_logloss_vs_champion/);
    expect(Number(tags['shadow.logloss_diff'])).toBeGreaterThan(2 * Number(tags['shadow.logloss_diff_se']));
  });
});
