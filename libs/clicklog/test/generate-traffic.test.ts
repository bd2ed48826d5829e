import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseJsonLine } from '../../../test/support/json-lines.js';
import {
  ClicklogErrorCode,
  generateTraffic,
  readTrainingRows,
  syntheticImpressions,
  type TrainingRow,
} from '../src/index.js';
import { createPool, databaseUrl, schemasDroppedAfterAll } from './support.js';

const run = promisify(execFile);
const pool = createPool(3);
const schemaFor = schemasDroppedAfterAll(pool, 'gen');
const start = new Date('2026-01-10T00:00:00Z');
const options = { seed: 'gen-test', days: 2, impressionsPerDay: 1_500, start, cardinality: { ads: 300, slots: 200 } };

async function count(schema: string, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`);
  return Number(rows[0]!.n);
}

describe('generateTraffic', () => {
  it('writes impressions, clicks and truth that read back exactly as generated', async () => {
    const schema = schemaFor('rt');
    const result = await generateTraffic({ db: pool, schema, ...options });
    const expected = [...syntheticImpressions(options)];
    const clicks = expected.filter((r) => r.clickedAt).length;
    expect(result).toMatchObject({ schema, impressions: 3_000, clicks, from: start });
    expect(result.to).toEqual(new Date('2026-01-12T00:00:00Z'));
    expect(await count(schema, 'impressions')).toBe(3_000);
    expect(await count(schema, 'clicks')).toBe(clicks);
    expect(await count(schema, 'truth')).toBe(3_000);

    const window = 60;
    const rows: TrainingRow[] = [];
    for await (const row of readTrainingRows({
      db: pool,
      schema,
      from: result.from,
      to: result.to,
      attributionWindowMinutes: window,
      now: new Date('2026-02-01T00:00:00Z'),
      includeTrueCtr: true,
      batchSize: 500,
    })) {
      rows.push(row);
    }
    const byId = new Map(expected.map((r) => [r.id, r]));
    expect(rows).toHaveLength(3_000);
    let mismatches = 0;
    for (const row of rows) {
      const e = byId.get(row.id)!;
      const label = e.clickedAt && e.clickedAt.getTime() - e.servedAt.getTime() <= window * 60_000 ? 1 : 0;
      if (
        row.servedAt.getTime() !== e.servedAt.getTime() ||
        row.label !== label ||
        row.trueCtr !== e.trueCtr ||
        !isDeepStrictEqual(row.impression, e.impression)
      ) {
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('with until, writes the log as it stood then: nothing served or clicked later', async () => {
    const schema = schemaFor('until');
    const until = new Date('2026-01-11T09:30:00Z');
    const result = await generateTraffic({ db: pool, schema, ...options, until });
    const expected = [...syntheticImpressions(options)].filter((r) => r.servedAt < until);
    const clicks = expected.filter((r) => r.clickedAt && r.clickedAt < until).length;
    expect(expected.length).toBeGreaterThan(1_500);
    expect(expected.length).toBeLessThan(3_000);
    expect(result).toMatchObject({ impressions: expected.length, clicks, from: start, to: until });
    const { rows } = await pool.query<{ served: Date; clicked: Date }>(
      `SELECT (SELECT max(served_at) FROM ${schema}.impressions) AS served,
              (SELECT max(clicked_at) FROM ${schema}.clicks) AS clicked`,
    );
    expect(rows[0]!.served.getTime()).toBeLessThan(until.getTime());
    expect(rows[0]!.clicked.getTime()).toBeLessThan(until.getTime());
    expect(await count(schema, 'clicks')).toBe(clicks);
  });

  it('is deterministic across runs, appends by default and replaces on request', async () => {
    const a = schemaFor('det');
    const b = schemaFor('det');
    await generateTraffic({ db: pool, schema: a, ...options, days: 1 });
    await generateTraffic({ db: databaseUrl(), schema: b, ...options, days: 1 });
    const digest = async (s: string) =>
      (
        await pool.query<{ d: string }>(
          `SELECT md5(string_agg(i.id || i.served_at::text || i.ad_id || i.context::text || t.true_ctr::text, ',' ORDER BY i.id)) AS d
           FROM ${s}.impressions i JOIN ${s}.truth t ON t.impression_id = i.id`,
        )
      ).rows[0]!.d;
    expect(await digest(a)).toBe(await digest(b));
    await generateTraffic({ db: pool, schema: a, ...options, days: 1, seed: 'other' });
    expect(await count(a, 'impressions')).toBe(3_000);
    await generateTraffic({ db: pool, schema: a, ...options, days: 1, replace: true, writeTruth: false });
    expect(await count(a, 'impressions')).toBe(1_500);
    expect(await count(a, 'truth')).toBe(0);
  });

  it('refuses duplicate impression ids and writes nothing of that run', async () => {
    const schema = schemaFor('dup');
    await generateTraffic({ db: pool, schema, ...options, days: 1 });
    await expect(generateTraffic({ db: pool, schema, ...options, days: 1 })).rejects.toMatchObject({
      code: ClicklogErrorCode.WRITE_FAILED,
      message: expect.stringContaining('duplicate key'),
    });
    expect(await count(schema, 'impressions')).toBe(1_500);
  });
});

describe('clicklog CLI', () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const tsx = (args: string[], logLevel = 'warn') =>
    run(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...args], {
      env: { ...process.env, LOG_LEVEL: logLevel },
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    });

  it('prints the generate help', async () => {
    const { stdout } = await tsx(['generate', '--help']);
    expect(stdout).toContain('--seed');
    expect(stdout).toContain('--degrade');
  });

  it('generates into a schema and prints a JSON summary', async () => {
    const schema = schemaFor('cli');
    const { stdout } = await tsx([
      'generate',
      '--schema',
      schema,
      '--days',
      '1',
      '--per-day',
      '300',
      '--start',
      '2026-01-10',
      '--seed',
      '5',
      '--degrade',
      'broken-feature',
      '--broken-field',
      'country',
      '--broken-kind',
      'constant',
    ]);
    const summary = JSON.parse(stdout) as { impressions: number; schema: string };
    expect(summary).toMatchObject({ impressions: 300, schema });
    const { rows } = await pool.query(`SELECT DISTINCT country FROM ${schema}.impressions`);
    expect(rows).toEqual([{ country: 'unknown' }]);
  });

  it('logs lines with each key once, and exits 2 for usage mistakes but 1 when PostgreSQL is unreachable', async () => {
    const schema = schemaFor('lines');
    const { stderr } = await tsx(['generate', '--schema', schema, '--days', '1', '--per-day', '200'], 'info');
    const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
    // The migration's line and the summary's, from a logger bound to the schema and the seed.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(parseJsonLine(line)).toMatchObject({ schema });
    const exitCode = (args: string[]) =>
      tsx(args).then(
        () => 0,
        (error: { code?: number; stderr?: string }) => {
          expect(error.stderr).toMatch(/^clicklog: /);
          expect(error.stderr).not.toMatch(/\n\s+at /);
          return error.code;
        },
      );
    expect(await exitCode(['generate', '--dayz', '1'])).toBe(2);
    expect(await exitCode(['migrate', '--database-url', 'postgres://postgres@127.0.0.1:1/none'])).toBe(1);
  });

  it('--until-now: a full day of traffic in the 24 h before now, whatever the time of day', async () => {
    const schema = schemaFor('now');
    const before = Date.now();
    await tsx(['generate', '--schema', schema, '--days', '3', '--per-day', '2000', '--until-now', '--no-truth']);
    const { rows } = await pool.query<{ recent: string; future: string }>(
      `SELECT count(*) FILTER (WHERE served_at >= $1) AS recent, count(*) FILTER (WHERE served_at > now()) AS future
         FROM ${schema}.impressions`,
      [new Date(before - 86_400_000)],
    );
    expect(Number(rows[0]!.future)).toBe(0);
    // Any 24 h span of the daily pattern holds one day's impressions (2000), give or take noise.
    expect(Number(rows[0]!.recent)).toBeGreaterThan(1_800);
    expect(Number(rows[0]!.recent)).toBeLessThan(2_200);
  });

  it('exits non-zero with a message on bad input', async () => {
    await expect(tsx(['generate', '--days', 'many'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--days must be a number'),
    });
  });
});
