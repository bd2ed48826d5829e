import { beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, usePredictionLogSchema } from '../../../test/support/prediction-log-schema.js';
import { createPredictionLogWriter, PredictionLogErrorCode, readLabelledPredictions } from '../src/index.js';

const db = usePredictionLogSchema('plog_r');
const { schema } = db;
const T0 = Date.parse('2024-05-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

beforeAll(async () => {
  // The click-log tables as @fallback-ctr/clicklog creates them (only the columns the reader joins on).
  await db.pool.query(`CREATE TABLE ${schema}.impressions (id text PRIMARY KEY, served_at timestamptz NOT NULL)`);
  await db.pool.query(`CREATE TABLE ${schema}.clicks (impression_id text NOT NULL, clicked_at timestamptz NOT NULL)`);
  await db.pool.query(
    `INSERT INTO ${schema}.impressions VALUES ('in-window', $1), ('late-click', $1), ('no-click', $1), ('shadowed', $1)`,
    [at(0)],
  );
  await db.pool.query(`INSERT INTO ${schema}.clicks VALUES ('in-window', $1), ('late-click', $2), ('shadowed', $1)`, [
    at(10),
    at(90),
  ]);
  const writer = createPredictionLogWriter({
    sampleRate: 1,
    maxQueue: 100,
    batchSize: 100,
    flushIntervalMs: 60_000,
    writeTimeoutMs: 5_000,
    databaseUrl: databaseUrl(),
    schema,
  });
  const served = { name: 'm', version: '3', role: 'served' as const };
  writer.record(
    served,
    [{ id: 'in-window' }, { id: 'late-click' }, { id: 'no-click' }, { id: 'never-served' }, { id: 'shadowed' }],
    Float64Array.of(0.2, 0.1, 0.05, 0.5, 0.3),
    at(0),
  );
  writer.record({ name: 'm', version: '4', role: 'shadow' }, [{ id: 'shadowed' }], Float64Array.of(0.4), at(0));
  writer.record({ name: 'other', version: '1', role: 'served' }, [{ id: 'no-click' }], Float64Array.of(0.9), at(0));
  await writer.close();
});

describe('readLabelledPredictions', () => {
  it('labels like training (click within the window), leaves out impressions the ad server never logged', async () => {
    const rows = await readLabelledPredictions({
      db: db.pool,
      schema,
      modelName: 'm',
      from: at(-60),
      to: at(60),
      attributionWindowMinutes: 30,
      role: 'served',
    });
    const byId = Object.fromEntries(rows.map((r) => [r.impressionId, [r.modelVersion, r.score, r.clicked]]));
    expect(byId).toEqual({
      'in-window': ['3', 0.2, 1],
      'late-click': ['3', 0.1, 0],
      'no-click': ['3', 0.05, 0],
      shadowed: ['3', 0.3, 1],
    });
  });

  it('reads both roles by default and only the given time range', async () => {
    const both = await readLabelledPredictions({
      db: databaseUrl(),
      schema,
      modelName: 'm',
      from: at(-60),
      to: at(60),
      attributionWindowMinutes: 30,
    });
    expect(both.filter((r) => r.impressionId === 'shadowed').map((r) => [r.role, r.modelVersion])).toEqual(
      expect.arrayContaining([
        ['served', '3'],
        ['shadow', '4'],
      ]),
    );
    const later = await readLabelledPredictions({
      db: db.pool,
      schema,
      modelName: 'm',
      from: at(1),
      to: at(60),
      attributionWindowMinutes: 30,
    });
    expect(later).toEqual([]);
  });

  it('names the missing table when the schema was never migrated', async () => {
    await expect(
      readLabelledPredictions({
        db: db.pool,
        schema: `${schema}_none`,
        modelName: 'm',
        from: at(0),
        to: at(1),
        attributionWindowMinutes: 30,
      }),
    ).rejects.toMatchObject({ code: PredictionLogErrorCode.SCHEMA_MISSING });
  });
});
