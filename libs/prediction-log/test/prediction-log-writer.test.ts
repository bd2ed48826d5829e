import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { databaseUrl, usePredictionLogSchema } from '../../../test/support/prediction-log-schema.js';
import {
  createPredictionLogWriter,
  createSampler,
  type LoggedModel,
  migratePredictionLog,
  PredictionLogErrorCode,
} from '../src/index.js';

const db = usePredictionLogSchema('plog_t', 3);
const { schema } = db;
const champion: LoggedModel = { name: 'fallback-ctr', version: '7', role: 'served' };
const settings = { sampleRate: 1, maxQueue: 1000, batchSize: 100, flushIntervalMs: 60_000, writeTimeoutMs: 5_000 };

const rows = (where = 'true') => db.rows(`WHERE ${where} ORDER BY impression_id COLLATE "C"`);

describe('migratePredictionLog', () => {
  it('is idempotent and independent of the click-log migrations table', async () => {
    const again = await migratePredictionLog({ db: databaseUrl(), schema });
    expect(again.applied).toEqual([]);
    const { rows: tables } = await db.pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    expect(tables.map((t) => t.name)).toEqual(['prediction_log_migrations', 'predictions']);
  });

  it('rejects a schema name that would need quoting', async () => {
    await expect(migratePredictionLog({ db: db.pool, schema: 'Bad-Name' })).rejects.toMatchObject({
      code: PredictionLogErrorCode.INVALID_OPTIONS,
    });
  });
});

describe('createPredictionLogWriter', () => {
  it('writes each identified impression once with its score; ids with COPY specials survive', async () => {
    const writer = createPredictionLogWriter({ ...settings, databaseUrl: databaseUrl(), schema });
    const impressions = [{ id: 'a-1' }, {}, { id: 'a\t2\\x' }];
    const queued = writer.record(champion, impressions, Float64Array.of(0.1, 0.2, 0.3));
    expect(queued).toBe(2);
    await writer.close();
    expect(await rows(`impression_id LIKE 'a%'`)).toEqual([
      { impression_id: 'a\t2\\x', model_version: '7', role: 'served', score: 0.3 },
      { impression_id: 'a-1', model_version: '7', role: 'served', score: 0.1 },
    ]);
    expect(writer.stats()).toMatchObject({ written: 2, queued: 0, dropped: { missing_id: 1, queue_full: 0 } });
  });

  it('skips an id PostgreSQL text cannot hold (NUL) alone, and its batch is written', async () => {
    const writer = createPredictionLogWriter({ ...settings, databaseUrl: databaseUrl(), schema });
    const impressions = [{ id: 'n-1' }, { id: 'n-\u0000-2' }, { id: 'n-3' }];
    expect(writer.record(champion, impressions, Float64Array.of(0.1, 0.2, 0.3))).toBe(2);
    await writer.close();
    expect((await rows(`impression_id LIKE 'n-%'`)).map((r) => r.impression_id)).toEqual(['n-1', 'n-3']);
    expect(writer.stats()).toMatchObject({ written: 2, dropped: { unloggable_id: 1, write_failed: 0 } });
  });

  it('writes every field exactly: any id text, the longest id, scores to the last bit, times before and after 2000', async () => {
    const model: LoggedModel = { name: 'ctr-modèle', version: '12', role: 'shadow' };
    const long = (i: number) => `f-long-${i}-`.padEnd(256, 'x');
    const ids = [
      'f-ascii',
      'f-ünïcødé-🎯',
      'f-\t\n\r\\',
      'f-\ud800-lone',
      ...Array.from({ length: 60 }, (_, i) => long(i)),
    ];
    const scores = Float64Array.from(ids, (_, i) => (i === 0 ? 0 : i === 1 ? 1 : Math.PI / (i + 4)));
    const written: number[] = [];
    const writer = createPredictionLogWriter({
      ...settings,
      databaseUrl: databaseUrl(),
      schema,
      onWritten: (n) => written.push(n),
    });
    const at = new Date(Date.UTC(2026, 10, 30, 22, 15, 1, 234));
    const before2000 = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999));
    expect(
      writer.record(
        model,
        ids.map((id) => ({ id })),
        scores,
        at,
      ),
    ).toBe(ids.length);
    await writer.flush();
    // The long ids do not fit one chunk: they went in more than one COPY.
    expect(written.length).toBeGreaterThan(1);
    // Into a buffer a finished COPY handed back: nothing of the earlier rows may be written again.
    expect(writer.record(model, [{ id: 'f-old' }], [0.5], before2000)).toBe(1);
    await writer.close();
    expect(written.reduce((sum, n) => sum + n, 0)).toBe(ids.length + 1);
    const { rows: got } = await db.pool.query<{
      impression_id: string;
      model_name: string;
      model_version: string;
      role: string;
      score: number;
      served_at: Date;
    }>(`SELECT * FROM ${schema}.predictions WHERE impression_id LIKE 'f-%'`);
    const expected = [
      ...ids.map((id, i) => ({ id: id.replace('\ud800', '\ufffd'), score: scores[i], at })),
      { id: 'f-old', score: 0.5, at: before2000 },
    ];
    expect(
      got
        .map((r) => ({
          id: r.impression_id,
          score: r.score,
          at: r.served_at,
          model: [r.model_name, r.model_version, r.role],
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
    ).toEqual(
      expected.map((e) => ({ ...e, model: ['ctr-modèle', '12', 'shadow'] })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
  });

  it('writes a full batch without waiting for the timer', async () => {
    const writes: number[] = [];
    const writer = createPredictionLogWriter({
      ...settings,
      batchSize: 10,
      databaseUrl: databaseUrl(),
      schema,
      onWritten: (n) => writes.push(n),
    });
    const impressions = Array.from({ length: 10 }, (_, i) => ({ id: `b-${i}` }));
    writer.record(champion, impressions, new Float64Array(10).fill(0.5));
    await expect.poll(() => writes, { timeout: 20_000 }).toEqual([10]);
    await writer.close();
    expect(await rows(`impression_id LIKE 'b-%'`)).toHaveLength(10);
  });

  it('drops and counts beyond the queue bound while the database is stalled; record() never waits', async () => {
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE ${schema}.predictions IN ACCESS EXCLUSIVE MODE`);
    const dropped: Record<string, number> = {};
    const writer = createPredictionLogWriter({
      ...settings,
      maxQueue: 20,
      batchSize: 10,
      writeTimeoutMs: 1_000,
      databaseUrl: databaseUrl(),
      schema,
      onDropped: (n, reason) => {
        dropped[reason] = (dropped[reason] ?? 0) + n;
      },
    });
    try {
      const batch = Array.from({ length: 10 }, (_, i) => ({ id: `c-${i}` }));
      const scores = new Float64Array(10).fill(0.25);
      // The first 10 start a COPY that waits on the lock; the next 10 queue; the last 10 find the queue full.
      for (let round = 0; round < 3; round++) writer.record(champion, batch, scores);
      expect(dropped.queue_full).toBe(10);
      expect(writer.stats().queued).toBe(20);
      // The stalled COPY hits the write timeout: its batch is dropped and counted, nothing is left hanging.
      await expect.poll(() => dropped.write_failed ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(10);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await writer.close();
    expect(writer.stats().queued).toBe(0);
    const stats = writer.stats();
    expect(stats.written + stats.dropped.write_failed + stats.dropped.closed).toBe(20);
  });

  it('survives an unreachable database: entries are dropped and counted, never thrown', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server: Server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const writer = createPredictionLogWriter({
      ...settings,
      databaseUrl: `postgres://nobody@127.0.0.1:${closedPort}/none`,
      schema,
    });
    writer.record(champion, [{ id: 'd-1' }, { id: 'd-2' }], Float64Array.of(0.1, 0.2));
    await writer.flush();
    expect(writer.stats()).toMatchObject({ written: 0, queued: 0, dropped: { write_failed: 2 } });
    await writer.close();
  });

  it('rejects settings that cannot work, naming the setting', () => {
    expect(() =>
      createPredictionLogWriter({ ...settings, sampleRate: 2, databaseUrl: databaseUrl(), schema }),
    ).toThrowError(/sampleRate/);
    expect(() =>
      createPredictionLogWriter({ ...settings, maxQueue: 5, batchSize: 10, databaseUrl: databaseUrl(), schema }),
    ).toThrowError(/batchSize/);
  });
});

describe('createSampler', () => {
  it('keeps about the given share, the same ids every time', () => {
    const a = createSampler(0.25);
    const b = createSampler(0.25);
    const ids = Array.from({ length: 20_000 }, (_, i) => `imp-${i}`);
    const kept = ids.filter(a);
    expect(kept.length / ids.length).toBeGreaterThan(0.23);
    expect(kept.length / ids.length).toBeLessThan(0.27);
    expect(ids.filter(b)).toEqual(kept);
    expect(ids.filter(createSampler(0))).toEqual([]);
    expect(ids.filter(createSampler(1))).toHaveLength(ids.length);
  });
});
