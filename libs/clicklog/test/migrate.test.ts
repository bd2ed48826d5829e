import { describe, expect, it } from 'vitest';
import { ClicklogErrorCode, migrate } from '../src/index.js';
import { runMigrations } from '../src/migrate.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import { createPool, databaseUrl, schemasDroppedAfterAll } from './support.js';

const pool = createPool(6);
const schemaFor = schemasDroppedAfterAll(pool, 'mig');

async function tablesOf(schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema],
  );
  return rows.map((r) => r.table_name);
}

describe('migrate', () => {
  it('goes up from an empty database (no schema) and creates the log tables', async () => {
    const schema = schemaFor('up');
    const result = await migrate({ db: pool, schema });
    expect(result).toEqual({ schema, applied: MIGRATIONS.map((m) => m.name), current: MIGRATIONS.at(-1)?.name });
    expect(await tablesOf(schema)).toEqual(['clicks', 'impressions', 'schema_migrations', 'truth']);
    const { rows } = await pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'impressions' ORDER BY ordinal_position`,
      [schema],
    );
    expect(rows.map((r) => `${r.column_name}:${r.data_type}`)).toEqual([
      'id:text',
      'served_at:timestamp with time zone',
      'slot_id:text',
      'placement:text',
      'ad_id:text',
      'campaign_id:text',
      'advertiser_id:text',
      'device_type:text',
      'os:text',
      'country:text',
      'context:jsonb',
    ]);
    const idx = await pool.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE schemaname = $1', [
      schema,
    ]);
    const defs = idx.rows.map((r) => r.indexdef).join('\n');
    expect(defs).toContain('(served_at, id)');
    expect(defs).toContain('(impression_id, clicked_at)');
  });

  it('is idempotent: a second run applies nothing and keeps the data', async () => {
    const schema = schemaFor('idem');
    await migrate({ db: pool, schema });
    await pool.query(`INSERT INTO ${schema}.impressions (id, served_at) VALUES ('a', now())`);
    const again = await migrate({ db: databaseUrl(), schema });
    expect(again.applied).toEqual([]);
    const { rows } = await pool.query(`SELECT id FROM ${schema}.impressions`);
    expect(rows).toEqual([{ id: 'a' }]);
  });

  it('serialises concurrent runners on the same schema: one applies, the others wait and find nothing', async () => {
    const schema = schemaFor('conc');
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate({ db: pool, schema })));
    const applied = results.map((r) => r.applied.length);
    expect(applied.filter((n) => n > 0)).toEqual([MIGRATIONS.length]);
    expect(applied.filter((n) => n === 0)).toHaveLength(3);
  });

  it('rolls a failing migration back and reports it', async () => {
    const schema = schemaFor('fail');
    const bad = [
      ...MIGRATIONS,
      { name: '9999_bad', sql: (s: string) => `CREATE TABLE ${s}.half_done (x int); SELECT * FROM no_such_table;` },
    ];
    await expect(runMigrations({ db: pool, schema }, bad)).rejects.toMatchObject({
      code: ClicklogErrorCode.MIGRATION_FAILED,
      message: expect.stringContaining('9999_bad'),
    });
    expect(await tablesOf(schema)).not.toContain('half_done');
    const { rows } = await pool.query(`SELECT name FROM ${schema}.schema_migrations ORDER BY name`);
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ name: m.name })));
  });

  it('refuses a schema migrated by a newer version', async () => {
    const schema = schemaFor('newer');
    await migrate({ db: pool, schema });
    await pool.query(`INSERT INTO ${schema}.schema_migrations (name, checksum) VALUES ('9999_future', 'x')`);
    await expect(migrate({ db: pool, schema })).rejects.toMatchObject({
      code: ClicklogErrorCode.MIGRATION_UNKNOWN,
      message: expect.stringContaining('9999_future'),
    });
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(migrate({ db: pool, schema: 'x; DROP TABLE y' })).rejects.toMatchObject({
      code: ClicklogErrorCode.INVALID_OPTIONS,
    });
  });
});
