import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClicklogErrorCode,
  dropSchema,
  generateTraffic,
  readTrainingRows,
  splitTrainingWindow,
  writeImpressions,
} from '../src/index.js';
import { createPool, databaseUrl, uniqueSchema } from './support.js';

const admin = createPool(2);
const schema = uniqueSchema('ro');
const role = `clicklog_ro_${randomBytes(4).toString('hex')}`;
let readOnly: pg.Pool;
const start = new Date('2020-01-06T00:00:00Z');

beforeAll(async () => {
  await generateTraffic({ db: admin, schema, seed: 7, days: 1, impressionsPerDay: 500, start });
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  const url = new URL(databaseUrl());
  url.username = role;
  readOnly = new pg.Pool({ connectionString: url.toString(), max: 2 });
});

afterAll(async () => {
  await readOnly?.end();
  await dropSchema({ db: admin, schema });
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

describe('a role with only SELECT', () => {
  it('reads and splits the training window', async () => {
    const end = new Date(start.getTime() + 86_400_000);
    let n = 0;
    for await (const row of readTrainingRows({
      db: readOnly,
      schema,
      from: start,
      to: end,
      attributionWindowMinutes: 30,
      includeTrueCtr: true,
    })) {
      expect(row.trueCtr).toBeGreaterThan(0);
      n++;
    }
    expect(n).toBe(500);
    const split = await splitTrainingWindow({
      db: readOnly,
      schema,
      from: start,
      to: end,
      attributionWindowMinutes: 30,
    });
    expect(split.train.rows + split.holdout.rows).toBe(500);
  });

  it('really is read-only: writing is refused', async () => {
    await expect(
      writeImpressions({ db: readOnly, schema, rows: [{ id: 'x', servedAt: new Date(), impression: {} }] }),
    ).rejects.toMatchObject({ code: ClicklogErrorCode.WRITE_FAILED, message: expect.stringContaining('permission') });
  });
});
