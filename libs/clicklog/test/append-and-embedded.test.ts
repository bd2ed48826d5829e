import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTraffic, importLog, migrate, readTrainingRows, syntheticImpressions } from '../src/index.js';
import { createPool, uniqueSchema } from './support.js';

const start = new Date('2020-05-01T00:00:00Z');
const traffic = { seed: 'append', impressionsPerDay: 400, start, drift: 0.3 };

describe('firstDay: appending a later day of the same traffic', () => {
  it('yields exactly the rows a single longer call yields for those days', () => {
    const whole = [...syntheticImpressions({ ...traffic, days: 3 })];
    const head = [...syntheticImpressions({ ...traffic, days: 2 })];
    const tail = [...syntheticImpressions({ ...traffic, days: 1, firstDay: 2 })];
    expect(head.length + tail.length).toBe(whole.length);
    expect([...head, ...tail]).toEqual(whole);
    expect(tail[0]?.servedAt.getTime()).toBeGreaterThanOrEqual(start.getTime() + 2 * 86_400_000);
  });
});

async function readAll(db: pg.Pool, schema: string, days: number) {
  const rows = readTrainingRows({
    db,
    schema,
    from: start,
    to: new Date(start.getTime() + days * 86_400_000),
    attributionWindowMinutes: 30,
    now: new Date('2021-01-01T00:00:00Z'),
  });
  const ids: string[] = [];
  let clicks = 0;
  for await (const row of rows) {
    ids.push(row.id);
    clicks += row.label;
  }
  return { ids, clicks };
}

describe('the same writer on PostgreSQL (COPY) and on embedded PGlite (INSERT fallback)', () => {
  let embedded: PGlite;
  let server: PGLiteSocketServer;
  let embeddedPool: pg.Pool;
  const realPool = createPool();
  const schema = uniqueSchema('embedded');

  beforeAll(async () => {
    embedded = await PGlite.create();
    server = new PGLiteSocketServer({ db: embedded, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    const address = server.getServerConn();
    embeddedPool = new pg.Pool({ connectionString: `postgres://postgres@${address}/postgres`, max: 2 });
  });

  afterAll(async () => {
    await embeddedPool?.end();
    await server?.stop();
    await embedded?.close();
    await realPool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await realPool.end();
  });

  it('writes two days, appends a third, and reads back identical rows from both', async () => {
    for (const db of [realPool, embeddedPool]) {
      const first = await generateTraffic({ db, schema, ...traffic, days: 2, replace: true });
      const next = await generateTraffic({ db, schema, ...traffic, days: 1, firstDay: 2 });
      expect(first.impressions + next.impressions).toBe(1200);
      expect(next.from.toISOString()).toBe('2020-05-03T00:00:00.000Z');
      expect(next.to.toISOString()).toBe('2020-05-04T00:00:00.000Z');
    }
    const real = await readAll(realPool, schema, 3);
    const emb = await readAll(embeddedPool, schema, 3);
    expect(real.ids).toHaveLength(1200);
    expect(new Set(real.ids).size).toBe(1200);
    expect(emb).toEqual(real);
    expect(real.clicks).toBeGreaterThan(0);
  });

  // `clicklog import` into the demo's database: the staging tables are TEMP tables named without a
  // schema, which the INSERT fallback must take as COPY targets too.
  it('imports a file with a separate click file, and re-imports it through the staging table, as PostgreSQL does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clicklog-embedded-import-'));
    const importSchema = uniqueSchema('embedded_import');
    try {
      const file = join(dir, 'impressions.csv');
      const clicksFile = join(dir, 'clicks.csv');
      const lines = ['id,when,item,pos'];
      for (let i = 0; i < 50; i++)
        lines.push(`e${i},2024-05-01T10:${String(i).padStart(2, '0')}:00Z,ad-${i % 3},${i % 2}`);
      await writeFile(file, `${lines.join('\n')}\n`);
      await writeFile(clicksFile, 'impression_id,clicked_at\ne3,2024-05-01T10:03:20Z\ne7,2024-05-01T10:07:30Z\n');
      const mapping = {
        idColumn: 'id',
        timestampColumn: 'when',
        columns: { ad_id: 'item', slot_id: 'pos' },
        clicksFile,
      };
      const results = [];
      for (const db of [realPool, embeddedPool]) {
        await migrate({ db, schema: importSchema });
        const first = await importLog({ db, schema: importSchema, file, mapping });
        const again = await importLog({ db, schema: importSchema, file, mapping });
        const stored = await db.query(
          `SELECT i.id, i.served_at, i.ad_id, i.slot_id, c.clicked_at FROM ${importSchema}.impressions i
           LEFT JOIN ${importSchema}.clicks c ON c.impression_id = i.id ORDER BY i.id`,
        );
        results.push({ first, again, stored: stored.rows });
      }
      const [real, emb] = results;
      expect(real?.first).toMatchObject({ imported: 50, badRows: 0, clicks: { read: 2, imported: 2 } });
      expect(real?.again).toMatchObject({ imported: 0, skippedDuplicates: 50, clicks: { imported: 0 } });
      expect(emb?.first).toMatchObject({ imported: 50, badRows: 0, clicks: { read: 2, imported: 2 } });
      expect(emb?.again).toMatchObject({ imported: 0, skippedDuplicates: 50, clicks: { imported: 0 } });
      expect(emb?.stored).toHaveLength(50);
      expect(emb?.stored).toEqual(real?.stored);
    } finally {
      await realPool.query(`DROP SCHEMA IF EXISTS ${importSchema} CASCADE`);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
