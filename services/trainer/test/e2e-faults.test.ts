import { Writable } from 'node:stream';
import {
  ARTIFACT_FILE_NAME,
  CHAMPION_ALIAS,
  MODEL_ARTIFACT_DIR,
  parseArtifact,
  serializeArtifact,
  VersionTag,
} from '@fallback-ctr/model';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/cli.js';
import { TrainerErrorCode } from '../src/errors.js';
import { RECONCILED_TAG } from '../src/reconcile.js';
import { RunTag } from '../src/registry.js';
import { runLockKey } from '../src/run-lock.js';
import {
  cli,
  databaseUrl,
  e2eNames,
  type LogLine,
  mlflowClient,
  runBehindFaultProxy,
  seedTraffic,
  trainerEnv,
} from './support/e2e.js';

const names = e2eNames();
const schema = names.schema('trainer_e2e_faults');
const lostAnswer = names.model('trainer-e2e-lost-answer');
const lostLock = names.model('trainer-e2e-lost-lock');
const statusModel = names.model('trainer-e2e-status');
const goneModel = names.model('trainer-e2e-gone');
const mlflow = mlflowClient();
const aliasVersion = async (model: string, alias: string) =>
  (await mlflow.getModelVersionByAlias(model, alias).catch(() => null))?.version ?? null;

/** Ends the Postgres session holding `key`'s advisory lock, as a dropped connection or a failover does. */
async function terminateLockHolder(key: string): Promise<number> {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND granted
          AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [key],
    );
    return rows.length;
  } finally {
    await admin.end();
  }
}

/** What a trainer killed between registering a PASS version and moving the alias leaves behind. */
async function crashLeftovers(model: string) {
  const experiment = await mlflow.getOrCreateExperiment(model);
  const crashed = await mlflow.createRun({
    experimentId: experiment.experimentId,
    runName: 'crashed',
    tags: { [RunTag.MODEL_NAME]: model, [RunTag.COMPONENT]: 'trainer' },
  });
  await mlflow.getOrCreateRegisteredModel(model);
  const pending = await mlflow.createModelVersion({
    name: model,
    source: `${crashed.info.artifactUri}/${MODEL_ARTIFACT_DIR}`,
    runId: crashed.info.runId,
    tags: { [VersionTag.GATE_OUTCOME]: 'PASS', [VersionTag.PROMOTION]: 'pending' },
  });
  return { crashed, pending };
}

describe('trainer end to end: faults around the alias move, the lock, rollback and leftovers', () => {
  beforeAll(async () => {
    await seedTraffic(schema, { seed: 31 });
  });

  it('7. the alias move applied but its answer lost: reads the alias back, finishes the promotion', async () => {
    const { code, logs } = await runBehindFaultProxy(trainerEnv(schema, lostAnswer), (method, path) =>
      method === 'POST' && path === '/api/2.0/mlflow/registered-models/alias'
        ? { kind: 'drop-response' }
        : { kind: 'pass' },
    );
    expect(code, JSON.stringify(logs.at(-1))).toBe(ExitCode.OK);
    expect(logs.at(-1)).toMatchObject({ outcome: 'PROMOTED', modelVersion: '1' });
    expect(logs.some((l) => l.msg.startsWith('the answer to the alias move was lost'))).toBe(true);
    expect(await aliasVersion(lostAnswer, CHAMPION_ALIAS)).toBe('1');
    expect((await mlflow.getModelVersion(lostAnswer, '1')).tags[VersionTag.PROMOTION]).toBe('promoted');
  });

  it('9. rollback refuses a re-hashed artifact the pods would refuse, before moving anything', async () => {
    // Version 2 carries a valid artifact re-hashed after an edit, under the sha256 tag of version 1.
    const v1 = await mlflow.getModelVersion(lostAnswer, '1');
    const original = parseArtifact(await mlflow.downloadModelVersionArtifact(lostAnswer, '1', ARTIFACT_FILE_NAME));
    const edited = serializeArtifact({
      featureSpec: original.featureSpec,
      bias: original.bias + 3,
      weights: original.weights,
      negativeSamplingRate: original.negativeSamplingRate,
      training: original.training,
      ...(original.vocabulary ? { vocabulary: original.vocabulary } : {}),
    });
    const experiment = await mlflow.getOrCreateExperiment(lostAnswer);
    const run = await mlflow.createRun({ experimentId: experiment.experimentId, runName: 'tampered' });
    await mlflow.uploadArtifact(run.info.artifactUri, `${MODEL_ARTIFACT_DIR}/${ARTIFACT_FILE_NAME}`, edited.bytes);
    await mlflow.finishRun(run.info.runId);
    const tampered = await mlflow.createModelVersion({
      name: lostAnswer,
      source: `${run.info.artifactUri}/${MODEL_ARTIFACT_DIR}`,
      runId: run.info.runId,
      tags: {
        [VersionTag.ARTIFACT_SHA256]: v1.tags[VersionTag.ARTIFACT_SHA256] ?? '',
        [VersionTag.GATE_OUTCOME]: 'PASS',
        [VersionTag.PROMOTION]: 'not-eligible',
      },
    });
    const { code, logs } = await cli(['rollback', '--to-version', tampered.version], trainerEnv(schema, lostAnswer));
    expect(code).toBe(ExitCode.ERROR);
    expect(logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: TrainerErrorCode.ROLLBACK_TARGET_REFUSED });
    expect(logs.at(-1)?.msg).toMatch(/inference would refuse .* registry tag artifact\.sha256/);
    expect(await aliasVersion(lostAnswer, CHAMPION_ALIAS)).toBe('1');
  });

  it('9. rollback refuses a target over MAX_ARTIFACT_BYTES, as the pods would, before moving anything', async () => {
    // Version 3: version 1's very artifact, registered again; healthy, but over a 1 KiB limit.
    const v1 = await mlflow.getModelVersion(lostAnswer, '1');
    const copy = await mlflow.createModelVersion({
      name: lostAnswer,
      source: v1.source,
      runId: v1.runId,
      tags: {
        [VersionTag.ARTIFACT_SHA256]: v1.tags[VersionTag.ARTIFACT_SHA256] ?? '',
        [VersionTag.GATE_OUTCOME]: 'PASS',
      },
    });
    const rollback = (extra: Record<string, string>) =>
      cli(['rollback', '--to-version', copy.version], trainerEnv(schema, lostAnswer, extra));
    const refused = await rollback({ MAX_ARTIFACT_BYTES: '1024' });
    expect(refused.code).toBe(ExitCode.ERROR);
    expect(refused.logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: TrainerErrorCode.ROLLBACK_TARGET_REFUSED });
    expect(refused.logs.at(-1)?.msg).toMatch(/inference would refuse .* larger than MAX_ARTIFACT_BYTES \(1024\)/);
    expect(await aliasVersion(lostAnswer, CHAMPION_ALIAS)).toBe('1');
    // Within the default limit the same target is fine: the size was the only reason.
    const done = await rollback({});
    expect(done.code, JSON.stringify(done.logs.at(-1))).toBe(ExitCode.OK);
    expect(await aliasVersion(lostAnswer, CHAMPION_ALIAS)).toBe(copy.version);
  });

  it('8. the lock lost mid-run: the run stops with TRAINER_LOCK_LOST (not a release error) and promotes nothing', async () => {
    const key = runLockKey(lostLock);
    const lines: LogLine[] = [];
    let terminated: Promise<number> | undefined;
    const { code } = await cli(['run'], trainerEnv(schema, lostLock, { PROGRESS_INTERVAL_SECONDS: '0.001' }), {
      logDestination: new Writable({
        write(chunk, _enc, cb) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
          if (!terminated && String(chunk).includes('"progress"')) terminated = terminateLockHolder(key);
          cb();
        },
      }),
    });
    expect(await terminated).toBe(1);
    expect(code).toBe(ExitCode.ERROR);
    expect(lines.at(-1)).toMatchObject({ outcome: 'ERROR', code: TrainerErrorCode.LOCK_LOST });
    expect(await aliasVersion(lostLock, CHAMPION_ALIAS)).toBeNull();
    const runId = lines.find((l) => l.msg === 'training run started')?.runId as string;
    const run = await mlflow.getRun(runId);
    expect(run.info.status).toBe('FAILED');
    expect(run.data.tags['error.code']).toBe(TrainerErrorCode.LOCK_LOST);
  });

  it('11. the next run finds the leftovers of a crash: run RUNNING -> KILLED, version pending -> aborted', async () => {
    const { crashed, pending } = await crashLeftovers(lostLock);

    const { code, logs } = await cli(['run'], trainerEnv(schema, lostLock));
    expect(code).toBe(ExitCode.OK);
    expect(logs.at(-1)).toMatchObject({ outcome: 'PROMOTED' });
    const found = await mlflow.getRun(crashed.info.runId);
    expect(found.info.status).toBe('KILLED');
    expect(found.data.tags['error.code']).toBe(TrainerErrorCode.RUN_ABANDONED);
    expect(found.data.tags['error.message']).toMatch(/found still RUNNING at .* by trainer run /);
    const settled = await mlflow.getModelVersion(lostLock, pending.version);
    expect(settled.tags[VersionTag.PROMOTION]).toBe('aborted');
    expect(settled.tags[RECONCILED_TAG]).toMatch(/ended before moving "champion"/);
    // The run of the lost lock above was marked FAILED by itself, so it is not touched again.
    const own = logs.find((l) => l.msg === 'training run started')?.runId as string;
    expect((await mlflow.getRun(own)).info.status).toBe('FINISHED');
  });

  it('11. status settles the leftovers too when no run holds the lock, and says what it did', async () => {
    const { crashed, pending } = await crashLeftovers(statusModel);
    const first = await cli(['status', '--json'], trainerEnv(schema, statusModel));
    expect(first.code).toBe(ExitCode.OK);
    const status = JSON.parse(first.stdout);
    expect(status.leftovers).toMatchObject({
      state: 'reconciled',
      leftovers: { runs: [{ runId: crashed.info.runId }], versions: [{ version: pending.version, isChampion: false }] },
    });
    expect(status.versions[0]).toMatchObject({ version: pending.version, promotion: 'aborted' });
    expect((await mlflow.getRun(crashed.info.runId)).info.status).toBe('KILLED');
    const second = await cli(['status'], trainerEnv(schema, statusModel));
    expect(second.stdout).toContain('leftovers: none');
  });

  it('7. MLflow gone at the alias move, unreadable after: says the state is unknown, leaves it for reconciling', async () => {
    const result = await runBehindFaultProxy(trainerEnv(schema, goneModel), (method, path) =>
      method === 'POST' && path.startsWith('/api/2.0/mlflow/registered-models/alias')
        ? { kind: 'stop' }
        : { kind: 'pass' },
    );
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.logs.at(-1)).toMatchObject({ outcome: 'ERROR', code: TrainerErrorCode.ALIAS_STATE_UNKNOWN });
    expect(result.logs.at(-1)?.msg).toMatch(/reading the aliases back failed too/);
    // The proxy cut the request before MLflow saw it: champion did not move, the version is left pending…
    expect(await aliasVersion(goneModel, CHAMPION_ALIAS)).toBeNull();
    expect((await mlflow.getModelVersion(goneModel, '1')).tags[VersionTag.PROMOTION]).toBe('pending');
    // …until status, with MLflow back, settles it from what the alias says.
    const status = JSON.parse((await cli(['status', '--json'], trainerEnv(schema, goneModel))).stdout);
    expect(status.leftovers.leftovers.versions).toEqual([{ version: '1', isChampion: false }]);
    expect((await mlflow.getModelVersion(goneModel, '1')).tags[VersionTag.PROMOTION]).toBe('aborted');
  });
});
