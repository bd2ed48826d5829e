import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClicklogErrorCode, importLog, migrate, readTrainingRows, writeClicks } from '../src/index.js';
import { createPool, databaseUrl, uniqueSchema } from './support.js';

const pool = createPool();
const schema = uniqueSchema('import');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clicklog-import-'));
  await migrate({ db: pool, schema });
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
  await rm(dir, { recursive: true, force: true });
});

async function impressions(idPrefix: string) {
  const { rows } = await pool.query(
    `SELECT id, served_at, ad_id, slot_id, context FROM ${schema}.impressions WHERE id LIKE $1 ORDER BY id`,
    [`${idPrefix}%`],
  );
  return rows as {
    id: string;
    served_at: Date;
    ad_id: string | null;
    slot_id: string | null;
    context: Record<string, unknown>;
  }[];
}
async function clicksOf(ids: string[]) {
  const { rows } = await pool.query(
    `SELECT impression_id, clicked_at FROM ${schema}.clicks WHERE impression_id = ANY($1) ORDER BY impression_id`,
    [ids],
  );
  return rows as { impression_id: string; clicked_at: Date }[];
}

const CSV = [
  ',when,item,pos,click,score,"note, quoted"',
  '0,2024-05-01 10:00:00,ad-1,3,0,0.5,"a ""b"""',
  '1,2024-05-01 10:00:05,ad-2,1,1,0.25,"multi',
  'line"',
  '2,2024-05-01 10:00:09,ad-1,2,yes,,x',
].join('\n');

describe('importLog: CSV with a click flag on the row', () => {
  it('maps columns, sends the rest to context, derives clicked_at, and skips the same ids on re-import', async () => {
    const file = join(dir, 'flag.csv');
    await writeFile(file, `${CSV}\n`);
    const mapping = {
      idColumn: '_c0',
      idPrefix: 'unused',
      timestampColumn: 'when',
      timeZone: 'Europe/Paris',
      labelColumn: 'click',
      clickDelaySeconds: 30,
      columns: { ad_id: 'item', slot_id: 'pos' },
      ignore: ['score'],
    };
    const first = await importLog({ db: pool, schema, file, mapping });
    expect(first).toMatchObject({ format: 'csv', rows: 3, imported: 3, skippedDuplicates: 0, badRows: 0 });
    expect(first.clicks).toEqual({ read: 2, imported: 2, skippedDuplicates: 0 });

    const rows = await impressions('');
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get('0')?.served_at.toISOString()).toBe('2024-05-01T08:00:00.000Z'); // Paris is UTC+2 in May
    expect(byId.get('0')).toMatchObject({ ad_id: 'ad-1', slot_id: '3', context: { 'note, quoted': 'a "b"' } });
    expect(byId.get('1')?.context).toEqual({ 'note, quoted': 'multi\nline' });
    expect(byId.get('2')?.context).toEqual({ 'note, quoted': 'x' }); // empty score dropped, score ignored anyway
    const clicks = await clicksOf(['0', '1', '2']);
    expect(clicks.map((c) => [c.impression_id, c.clicked_at.toISOString()])).toEqual([
      ['1', '2024-05-01T08:00:35.000Z'],
      ['2', '2024-05-01T08:00:39.000Z'],
    ]);

    const again = await importLog({ db: pool, schema, file, mapping });
    expect(again).toMatchObject({ rows: 3, imported: 0, skippedDuplicates: 3 });
    expect(again.clicks).toEqual({ read: 2, imported: 0, skippedDuplicates: 2 });
    expect(await clicksOf(['0', '1', '2'])).toHaveLength(2);
  });

  it('generates <prefix>:<line> ids (the line where a row starts) when there is no id column', async () => {
    const file = join(dir, 'gen.csv');
    await writeFile(file, `${CSV}\n`);
    const result = await importLog({
      db: pool,
      schema,
      file,
      mapping: { timestampColumn: 'when', labelColumn: 'click', idPrefix: 'gen' },
    });
    expect(result.imported).toBe(3);
    const rows = await impressions('gen:');
    expect(rows.map((r) => r.id)).toEqual(['gen:2', 'gen:3', 'gen:5']);
    expect(rows[0]?.context).toMatchObject({ _c0: '0', item: 'ad-1', pos: '3', score: '0.5' });
  });
});

describe('importLog: a file larger than one staging segment', () => {
  // 5,000 JSONL rows arrive in batches of 500; one byte per segment makes each batch its own
  // segment, merged before the next is staged. Rows 4,000+ repeat rows 0-999 (same id, same row),
  // so the direct COPY into the table breaks on the first of them and the file goes in again
  // through the staging table. Rows 10 and 11 are bad (their repeats 4,010 and 4,011 are not).
  const lines = (bad: boolean) =>
    Array.from({ length: 5000 }, (_, i) => {
      const n = i % 4000;
      const at = (bad && i >= 4500 && i < 4510) || i === 10 || i === 11 ? 'never' : 1_714_557_600 + n;
      return JSON.stringify({ rid: `seg-${n}`, at, clicked: n % 10 === 0 ? 1 : 0, ad: `ad-${n % 7}` });
    }).join('\n');
  const mapping = { idColumn: 'rid', timestampColumn: 'at', timestampFormat: 'unix-s', labelColumn: 'clicked' };

  it('skips ids merged from an earlier segment and counts them, impressions and clicks alike', async () => {
    const file = join(dir, 'segments.jsonl');
    await writeFile(file, lines(false));
    const result = await importLog({ db: pool, schema, file, mapping, segmentBytes: 1 });
    expect(result).toMatchObject({ rows: 5000, imported: 4000, skippedDuplicates: 998, badRows: 2 });
    expect(result.rejects.map((r) => r.line)).toEqual([11, 12]); // reported once, not once per read
    expect(result.clicks).toEqual({ read: 499, imported: 400, skippedDuplicates: 99 });
    expect(await impressions('seg-')).toHaveLength(4000);
    const again = await importLog({ db: pool, schema, file, mapping, segmentBytes: 1 });
    expect(again).toMatchObject({ rows: 5000, imported: 0, skippedDuplicates: 4998, badRows: 2 });
  });

  it('writes new ids straight into the table, without a second copy of a click already logged', async () => {
    const file = join(dir, 'direct.csv');
    await writeFile(file, 'rid,at,clicked\ndirect-1,1714557600,1\ndirect-2,1714557601,1\n');
    await writeClicks({
      db: pool,
      schema,
      rows: [{ impressionId: 'direct-1', clickedAt: new Date(1_714_557_600_000) }],
    });
    const result = await importLog({ db: pool, schema, file, mapping });
    expect(result).toMatchObject({ rows: 2, imported: 2, skippedDuplicates: 0 });
    expect(result.clicks).toEqual({ read: 2, imported: 1, skippedDuplicates: 1 });
    expect(await clicksOf(['direct-1', 'direct-2'])).toHaveLength(2);
  });

  it('rolls back the segments already merged when the bad rows pass the threshold later in the file', async () => {
    const file = join(dir, 'segments-bad.jsonl');
    await writeFile(file, lines(true).replaceAll('seg-', 'segbad-'));
    await expect(
      importLog({ db: pool, schema, file, mapping: { ...mapping, maxBadRows: '5' }, segmentBytes: 1 }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.IMPORT_TOO_MANY_BAD_ROWS });
    expect(await impressions('segbad-')).toHaveLength(0);
  });
});

describe('importLog: JSONL with a separate click file; Parquet', () => {
  it('reads JSON types into context, patterns with a time zone, and clicks from their own file', async () => {
    const file = join(dir, 'imps.jsonl');
    const clicksFile = join(dir, 'clicks.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ rid: 'j1', hour: '24050110', ad: 7, age: 31, premium: true, tags: ['a'] }),
        '',
        JSON.stringify({ rid: 'j2', hour: '24050111', ad: 8, age: null }),
      ].join('\n'),
    );
    await writeFile(clicksFile, `${JSON.stringify({ impression_id: 'j2', clicked_at: '2024-05-01T11:02:00Z' })}\n`);
    const result = await importLog({
      db: pool,
      schema,
      file,
      mapping: {
        idColumn: 'rid',
        timestampColumn: 'hour',
        timestampFormat: 'YYMMDDHH',
        timeZone: 'America/New_York',
        clicksFile,
        clicksTimestampFormat: 'iso',
        columns: { ad_id: 'ad' },
      },
    });
    expect(result).toMatchObject({ format: 'jsonl', rows: 2, imported: 2, badRows: 0 });
    expect(result.clicks).toEqual({ read: 1, imported: 1, skippedDuplicates: 0 });
    const rows = await impressions('j');
    expect(rows[0]).toMatchObject({ id: 'j1', ad_id: '7', context: { age: 31, premium: true, tags: '["a"]' } });
    expect(rows[0]?.served_at.toISOString()).toBe('2024-05-01T14:00:00.000Z'); // New York is UTC-4 in May
    expect(rows[1]?.context).toEqual({});
  });

  it('reads Parquet files (hyparquet), the row number as line', async () => {
    const file = join(dir, 'imps.parquet');
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['p1', 'p2', 'p3'], type: 'STRING' },
        { name: 'ts', data: [1714557600n, 1714557660n, 1714557720n], type: 'INT64' },
        { name: 'clicked', data: [true, false, true], type: 'BOOLEAN' },
        { name: 'price', data: [1.5, 2.25, 0], type: 'DOUBLE' },
      ],
    });
    await writeFile(file, Buffer.from(buffer));
    const result = await importLog({
      db: pool,
      schema,
      file,
      mapping: { idColumn: 'id', timestampColumn: 'ts', timestampFormat: 'unix-s', labelColumn: 'clicked' },
    });
    expect(result).toMatchObject({ format: 'parquet', rows: 3, imported: 3 });
    expect(result.clicks.imported).toBe(2);
    const rows = await impressions('p');
    expect(rows.map((r) => [r.id, r.served_at.toISOString(), r.context])).toEqual([
      ['p1', '2024-05-01T10:00:00.000Z', { price: 1.5 }],
      ['p2', '2024-05-01T10:01:00.000Z', { price: 2.25 }],
      ['p3', '2024-05-01T10:02:00.000Z', { price: 0 }],
    ]);
  });
});

describe('importLog: bad rows', () => {
  const header = 'id,ts,click';
  const good = (i: number) => `b${i},2024-05-02T00:00:${String(i % 60).padStart(2, '0')}Z,0`;

  it('reports file, line and reason; past 20 every bad row goes to the reject file; within the threshold it commits', async () => {
    const lines = [header];
    for (let i = 0; i < 3000; i++) lines.push(i % 100 === 7 ? `b${i},not-a-time,0` : good(i));
    lines.push('b-late,2024-05-02T00:00:00Z,maybe', 'b-short,2024-05-02T00:00:00Z');
    const file = join(dir, 'bad.csv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const result = await importLog({
      db: pool,
      schema,
      file,
      mapping: { idColumn: 'id', timestampColumn: 'ts', labelColumn: 'click', maxBadRows: '2%' },
    });
    expect(result.badRows).toBe(32);
    expect(result.imported).toBe(3000 - 30);
    expect(result.rejects).toHaveLength(20);
    expect(result.rejects[0]).toEqual({
      file,
      line: 9,
      reason: 'ts: timestamp "not-a-time" is not ISO 8601 (format iso)',
    });
    expect(result.rejectFile).toBe(`${file}.rejects.jsonl`);
    const rejected = (await readFile(`${file}.rejects.jsonl`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejected).toHaveLength(32);
    expect(rejected.at(-2)).toEqual({
      file,
      line: 3002,
      reason: 'click: label "maybe" is not 0/1, true/false or yes/no',
    });
    expect(rejected.at(-1)).toEqual({ file, line: 3003, reason: '2 fields where the header has 3' });
  });

  it('rolls back everything when the bad rows pass the threshold (no half-load)', async () => {
    const lines = [header];
    for (let i = 0; i < 50; i++) lines.push(`h${i},${i % 2 === 0 ? 'bad' : '2024-05-02T00:00:00Z'},0`);
    const file = join(dir, 'half.csv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const error = await importLog({
      db: pool,
      schema,
      file,
      mapping: { idColumn: 'id', timestampColumn: 'ts', labelColumn: 'click', maxBadRows: '10' },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ClicklogErrorCode.IMPORT_TOO_MANY_BAD_ROWS });
    expect((error as Error).message).toContain(`${file}:2: ts: timestamp "bad"`);
    expect(await impressions('h')).toEqual([]);
  });

  it('names a mapped column the header lacks, with the columns it has', async () => {
    const file = join(dir, 'cols.csv');
    await writeFile(file, `${header}\n${good(1)}\n`);
    const error = await importLog({
      db: pool,
      schema,
      file,
      mapping: { idColumn: 'id', timestampColumn: 'served', columns: { ad_id: 'item' } },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ClicklogErrorCode.IMPORT_COLUMN_MISSING });
    expect((error as Error).message).toMatch(/no column "served", "item".*its columns: id, ts, click/);
  });

  it('rejects an invalid mapping and an unreadable file with their own codes', async () => {
    await expect(
      importLog({
        db: pool,
        schema,
        file: join(dir, 'cols.csv'),
        mapping: { timestampColumn: 'ts', timeZone: 'Mars/Base' },
      }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.INVALID_OPTIONS });
    await expect(
      importLog({ db: pool, schema, file: join(dir, 'nope.csv'), mapping: { timestampColumn: 'ts' } }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.IMPORT_FILE_UNREADABLE });
  });
});

describe('clicklog import (CLI)', () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

  it('imports with a YAML mapping plus flags, prints the JSON summary, and the rows train', async () => {
    const file = join(dir, 'cli.csv');
    const mappingFile = join(dir, 'mapping.yaml');
    await writeFile(file, 'ts,item,click\n2024-05-03 00:00:00,ad-9,1\n2024-05-03 00:01:00,ad-8,0\n');
    await writeFile(mappingFile, 'timestampColumn: ts\nlabelColumn: click\ncolumns:\n  ad_id: item\n');
    const { stdout } = await promisify(execFile)(
      tsx,
      ['--conditions=source', cli, 'import', file, '--mapping', mappingFile, '--id-prefix', 'cli', '--schema', schema],
      { env: { ...process.env, DATABASE_URL: databaseUrl() } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ rows: 2, imported: 2, clicks: { imported: 1 } });
    const rows = [];
    for await (const row of readTrainingRows({
      db: pool,
      schema,
      from: new Date('2024-05-03T00:00:00Z'),
      to: new Date('2024-05-04T00:00:00Z'),
      attributionWindowMinutes: 30,
      now: new Date('2024-06-01T00:00:00Z'),
    }))
      rows.push([row.id, row.label, row.impression.ad_id]);
    expect(rows).toEqual([
      ['cli:2', 1, 'ad-9'],
      ['cli:3', 0, 'ad-8'],
    ]);
  });
});
