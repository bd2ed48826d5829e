import { Writable } from 'node:stream';
import { dropSchema } from '@fallback-ctr/clicklog';
import { CHAMPION_ALIAS } from '@fallback-ctr/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli.js';
import { acquireRunLock, runLockKey } from '../src/run-lock.js';
import {
  cli,
  databaseUrl,
  e2eNames,
  mlflowClient,
  runBehindFaultProxy,
  searchTrials,
  seedTraffic,
  trainerEnv,
} from './support/e2e.js';

const names = e2eNames();
const modelName = names.model('trainer-e2e-failures');
const schema = names.schema('trainer_e2e_fail');
const mlflow = mlflowClient();
const aliasVersion = async (alias: string) =>
  (await mlflow.getModelVersionByAlias(modelName, alias).catch(() => null))?.version ?? null;
const versionCount = async () => (await mlflow.searchAllModelVersions({ name: modelName })).length;

describe('trainer end to end: concurrency and MLflow outages', () => {
  beforeAll(async () => {
    await seedTraffic(schema, { seed: 23 });
  });

  it('5. two runs started at once: one exits cleanly without training, never two promotions', async () => {
    const env = trainerEnv(schema, modelName);
    const [a, b] = await Promise.all([cli(['run'], env), cli(['run'], env)]);
    expect([a.code, b.code]).toEqual([ExitCode.OK, ExitCode.OK]);
    const outcomes = [a.logs.at(-1)?.outcome, b.logs.at(-1)?.outcome].sort();
    expect(outcomes).toEqual(['PROMOTED', 'SKIPPED']);
    expect(await versionCount()).toBe(1);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    const promoted = [a, b].find((r) => r.logs.at(-1)?.outcome === 'PROMOTED')!;
    expect(promoted.logs.some((l) => String(l.msg).startsWith('rollout mode "none"'))).toBe(true);
    const skipped = [a, b].find((r) => r.logs.at(-1)?.outcome === 'SKIPPED')!;
    expect(skipped.logs.some((l) => l.msg === 'training run started')).toBe(false);
    // Every candidate of the search (logged while the next ones trained) is a finished nested run.
    const run = await mlflow.getRun((await mlflow.getModelVersion(modelName, '1')).runId);
    expect(run.data.params['search.ran']).toBe('true');
    const trials = await searchTrials(mlflow, run);
    expect(trials.length).toBe(run.data.metrics.search_trials);
    expect(trials.length).toBeGreaterThan(1);
    for (const t of trials) {
      expect(t.info.status).toBe('FINISHED');
      expect(t.data.metrics.validation_logloss).toBeGreaterThan(0);
    }
  });

  it('4. MLflow stops in the middle of publishing: exit non-zero, champion unchanged', async () => {
    const { code, logs, proxy } = await runBehindFaultProxy(trainerEnv(schema, modelName), (_method, path) =>
      path.startsWith('/api/2.0/mlflow/model-versions/create') ? { kind: 'stop' } : { kind: 'pass' },
    );
    expect(proxy.stopped).toBe(true);
    expect(proxy.seen.some((s) => s.startsWith('PUT /api/2.0/mlflow-artifacts/artifacts/'))).toBe(true);
    expect(code).toBe(ExitCode.ERROR);
    expect(logs.at(-1)).toMatchObject({ level: 'error', outcome: 'ERROR' });
    expect(logs.some((l) => l.msg === 'could not mark the MLflow run FAILED')).toBe(true);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await versionCount()).toBe(1);
  });

  it('SIGTERM in the middle of training: exit 143, run FAILED, champion unchanged, lock released', async () => {
    const controller = new AbortController();
    const env = trainerEnv(schema, modelName, { PROGRESS_INTERVAL_SECONDS: '0.001' });
    const running = cli(['run'], env, {
      signal: controller.signal,
      logDestination: new Writable({
        write(chunk, _enc, cb) {
          if (String(chunk).includes('"progress"')) controller.abort(new Error('SIGTERM'));
          logs.push(...String(chunk).split('\n').filter(Boolean));
          cb();
        },
      }),
    });
    const logs: string[] = [];
    const { code } = await running;
    expect(code).toBe(ExitCode.INTERRUPTED);
    const runId = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'training run started')?.runId as string;
    const run = await mlflow.getRun(runId);
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags['error.code']).toBe('FCTR_ABORTED');
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
    expect(await versionCount()).toBe(1);
    const lock = await acquireRunLock({ databaseUrl: databaseUrl(), key: runLockKey(modelName) });
    expect(lock).not.toBeNull();
    await lock?.release();
  });

  it('an empty window ends SKIPPED, saying where the data is and which TRAIN_WINDOW_END reaches it; nothing registered', async () => {
    const versionsBefore = await versionCount();
    const env = trainerEnv(schema, modelName, { TRAIN_WINDOW_END: '2020-01-01T00:00:00Z' });
    const { code, logs } = await cli(['run'], env);
    expect(code).toBe(ExitCode.OK);
    const last = logs.at(-1)!;
    expect(last.outcome).toBe('SKIPPED');
    expect(last.msg).toMatch(/no labelled impressions in the window \[\S+, 2020-01-01T00:00:00.000Z\)/);
    expect(last.msg).toMatch(
      /the table holds impressions served from \S+ to \S+: set TRAIN_WINDOW_END=\d{4}-\d\d-\d\dT\d\d:00:00Z/,
    );
    const run = await mlflow.getRun(last.runId as string);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.tags['run.outcome']).toBe('SKIPPED');
    expect(run.data.tags['skip.reason']).toContain('TRAIN_WINDOW_END=');
    for (const [key, value] of Object.entries(run.data.metrics)) expect(Number.isFinite(value), key).toBe(true);
    expect(run.data.metrics.data_rows).toBe(0);
    expect(await versionCount()).toBe(versionsBefore);
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('1');
  });

  it('a feature spec naming fields the data lacks fails before training, listing each with its coverage', async () => {
    const versionsBefore = await versionCount();
    const spec = {
      version: 1,
      hashBits: 12,
      fields: [
        { name: 'ad_id', source: 'column', kind: 'categorical' },
        { name: 'banner_pos', source: 'context', kind: 'categorical' },
      ],
    };
    const { code, logs } = await cli(['run'], trainerEnv(schema, modelName, { FEATURE_SPEC: JSON.stringify(spec) }));
    expect(code).toBe(ExitCode.ERROR);
    const runId = logs.find((l) => l.msg === 'training run started')?.runId as string;
    const run = await mlflow.getRun(runId);
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags['error.code']).toBe('TRAINER_DATA_COVERAGE');
    expect(run.data.tags['error.message']).toMatch(/banner_pos \(context\) 0.00 %/);
    expect(run.data.tags['error.message']).not.toMatch(/ad_id/);
    expect(run.data.metrics['coverage.banner_pos']).toBe(0);
    expect(run.data.metrics['coverage.ad_id']).toBe(1);
    expect(logs.some((l) => /^training pass/.test(l.msg))).toBe(false);
    expect(await versionCount()).toBe(versionsBefore);
  });

  it('a TRAIN_WINDOW_END later than now minus the attribution window is refused before anything is trained', async () => {
    // Traffic up to now: the impressions of the last 60 minutes have clicks still on the way.
    const recent = `${schema}_recent`;
    await seedTraffic(recent, { seed: 29, days: 2, start: new Date(Date.now() - 2 * 86_400_000) });
    try {
      const versionsBefore = await versionCount();
      const end = new Date(Date.now() + 3_600_000).toISOString();
      const env = trainerEnv(recent, modelName, { TRAIN_WINDOW_END: end, TRAIN_WINDOW_HOURS: '48' });
      const { code, stderr, logs } = await cli(['run'], env);
      expect(code).toBe(ExitCode.USAGE);
      expect(stderr).toMatch(
        /TRAIN_WINDOW_END: expected a time at or before .* \(now minus ATTRIBUTION_WINDOW_MINUTES\)/,
      );
      expect(logs.some((l) => l.msg === 'training run started')).toBe(false);
      expect(await versionCount()).toBe(versionsBefore);
    } finally {
      await dropSchema({ db: databaseUrl(), schema: recent });
    }
  });

  it('schedule --run-now trains once at start-up, then stops cleanly when signalled', async () => {
    const controller = new AbortController();
    const lines: { msg: string; outcome?: string }[] = [];
    const env = trainerEnv(schema, modelName, { SCHEDULE: '0 3 1 1 *' });
    const { code } = await cli(['schedule', '--run-now'], env, {
      signal: controller.signal,
      logDestination: new Writable({
        write(chunk, _enc, cb) {
          for (const l of String(chunk).split('\n').filter(Boolean)) {
            const line = JSON.parse(l) as { msg: string; outcome?: string };
            lines.push(line);
            if (line.msg.startsWith('outcome')) controller.abort(new Error('SIGTERM'));
          }
          cb();
        },
      }),
    });
    expect(code).toBe(ExitCode.OK);
    const msgs = lines.map((l) => l.msg);
    expect(msgs[0]).toBe('schedule started');
    expect(lines.find((l) => l.msg.startsWith('outcome'))?.outcome).toBe('PROMOTED');
    expect(msgs.at(-1)).toBe('schedule stopped');
    expect(await aliasVersion(CHAMPION_ALIAS)).toBe('2');
  });
});
