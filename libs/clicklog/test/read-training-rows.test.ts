import { describe, expect, it } from 'vitest';
import {
  ClicklogErrorCode,
  type ImpressionRecord,
  keepsNegative,
  readTrainingRows,
  type TrainingBatch,
  type TrainingRow,
} from '../src/index.js';
import { at, createPool, createPoolFor, databaseUrl, uniqueSchema, useSeededSchema } from './support.js';

const WINDOW = 30; // attribution window, minutes
const NOW = at(0);

async function collect(stream: AsyncIterable<TrainingRow>): Promise<TrainingRow[]> {
  const rows: TrainingRow[] = [];
  for await (const row of stream) rows.push(row);
  return rows;
}

const impressions: ImpressionRecord[] = [
  { id: 'click-inside', servedAt: at(-120), impression: { ad_id: 'a1', device_type: 'mobile' } },
  { id: 'click-one-minute-late', servedAt: at(-119), impression: { ad_id: 'a2' } },
  { id: 'click-at-window-end', servedAt: at(-118), impression: { ad_id: 'a3' } },
  { id: 'click-before-impression', servedAt: at(-117), impression: { ad_id: 'a4' } },
  { id: 'two-clicks', servedAt: at(-116), impression: { ad_id: 'a5' } },
  { id: 'no-click', servedAt: at(-115), impression: {} },
  // Ties on served_at: ordered by id.
  { id: 'tie-b', servedAt: at(-100), impression: {} },
  { id: 'tie-a', servedAt: at(-100), impression: {} },
  {
    id: 'odd\tvalues',
    servedAt: at(-90),
    impression: {
      slot_id: 'slot\\with\nnewline',
      country: 'DE',
      context: { hour_of_day: 13, user_age_days: 0.5, site_category: 'ünïcødé\t"q"', flag: true, gone: null },
    },
  },
  { id: 'at-cutoff', servedAt: at(-WINDOW), impression: {} },
  { id: 'inside-label-delay', servedAt: at(-WINDOW + 1), impression: {} },
  { id: 'young-with-click', servedAt: at(-10), impression: {} },
];

const { pool, schema } = useSeededSchema('read', {
  impressions,
  clicks: [
    { impressionId: 'click-inside', clickedAt: at(-120 + 29) },
    { impressionId: 'click-one-minute-late', clickedAt: at(-119 + WINDOW + 1) },
    { impressionId: 'click-at-window-end', clickedAt: at(-118 + WINDOW) },
    { impressionId: 'click-before-impression', clickedAt: at(-118) },
    { impressionId: 'two-clicks', clickedAt: at(-115) },
    { impressionId: 'two-clicks', clickedAt: at(-114) },
    { impressionId: 'young-with-click', clickedAt: at(-8) },
  ],
});

function read(extra: Partial<Parameters<typeof readTrainingRows>[0]> = {}) {
  return readTrainingRows({
    db: pool,
    schema,
    from: at(-24 * 60),
    to: at(60),
    attributionWindowMinutes: WINDOW,
    now: NOW,
    ...extra,
  });
}

describe('readTrainingRows: attribution window and label delay', () => {
  it('labels by the attribution window and excludes impressions inside the label delay', async () => {
    const stream = read();
    const rows = await collect(stream);
    const labels = Object.fromEntries(rows.map((r) => [r.id, r.label]));
    expect(labels).toEqual({
      'click-inside': 1,
      'click-one-minute-late': 0,
      'click-at-window-end': 1,
      'click-before-impression': 0,
      'two-clicks': 1,
      'no-click': 0,
      'tie-a': 0,
      'tie-b': 0,
      'odd\tvalues': 0,
      'at-cutoff': 0,
    });
    expect(stream.stats).toEqual({ now: NOW, labelCutoff: at(-WINDOW), rows: 10, positives: 3 });
  });

  it('streams in served_at order, ties by id, one row per impression', async () => {
    const rows = await collect(read());
    expect(rows.map((r) => r.id)).toEqual([
      'click-inside',
      'click-one-minute-late',
      'click-at-window-end',
      'click-before-impression',
      'two-clicks',
      'no-click',
      'tie-a',
      'tie-b',
      'odd\tvalues',
      'at-cutoff',
    ]);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.servedAt.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.servedAt.getTime());
    }
  });

  it('a later "now" makes the young impressions eligible, with the clicks that have arrived by then', async () => {
    const rows = await collect(read({ now: at(WINDOW) }));
    const labels = Object.fromEntries(rows.map((r) => [r.id, r.label]));
    expect(labels['inside-label-delay']).toBe(0);
    expect(labels['young-with-click']).toBe(1);
  });

  it('defaults "now" to the database clock', async () => {
    const stream = read({ now: undefined });
    const rows = await collect(stream);
    const { rows: dbNow } = await pool.query<{ now: Date }>('SELECT now() AS now');
    expect(Math.abs(stream.stats.now!.getTime() - dbNow[0]!.now.getTime())).toBeLessThan(60_000);
    // The fixture lies in 2020-03; the database's now is later, so everything is old enough.
    expect(rows.map((r) => r.id)).toContain('young-with-click');
  });

  it('keeps the window half-open: from inclusive, to exclusive', async () => {
    const rows = await collect(read({ from: at(-100), to: at(-90) }));
    expect(rows.map((r) => r.id)).toEqual(['tie-a', 'tie-b']);
  });

  it('round-trips columns and context exactly, omitting NULL columns', async () => {
    const rows = await collect(read({ from: at(-91), to: at(-89) }));
    expect(rows).toEqual([{ id: 'odd\tvalues', servedAt: at(-90), label: 0, impression: impressions[8]!.impression }]);
    const first = await collect(read({ from: at(-120), to: at(-119) }));
    expect(first[0]!.impression).toEqual({ ad_id: 'a1', device_type: 'mobile', context: {} });
  });

  it('gives the same rows over COPY and over the cursor, odd values included', async () => {
    for (const includeTrueCtr of [false, true]) {
      const viaCopy = await collect(read({ transport: 'copy', includeTrueCtr, now: at(WINDOW) }));
      const viaCursor = await collect(read({ transport: 'cursor', includeTrueCtr, now: at(WINDOW) }));
      expect(viaCopy).toHaveLength(impressions.length);
      expect(viaCursor).toEqual(viaCopy);
    }
  });

  it('adds trueCtr only when asked and present', async () => {
    await pool.query(`INSERT INTO ${schema}.truth (impression_id, true_ctr) VALUES ('no-click', 0.0125)`);
    const rows = await collect(read({ includeTrueCtr: true, from: at(-116), to: at(-114) }));
    expect(rows.map((r) => [r.id, r.trueCtr])).toEqual([
      ['two-clicks', undefined],
      ['no-click', 0.0125],
    ]);
    const plain = await collect(read({ from: at(-115), to: at(-114) }));
    expect(plain[0]).not.toHaveProperty('trueCtr');
  });
});

describe('readTrainingRows: batches by column', () => {
  async function collectBatches(stream: AsyncIterable<TrainingBatch>): Promise<TrainingBatch[]> {
    const batches: TrainingBatch[] = [];
    for await (const batch of stream) batches.push(batch);
    return batches;
  }

  it('hold the rows the row stream gives, over COPY and over the cursor', async () => {
    for (const transport of ['copy', 'cursor'] as const) {
      const rows = await collect(read({ transport, includeTrueCtr: true, now: at(WINDOW) }));
      const stream = read({ transport, includeTrueCtr: true, now: at(WINDOW), batchSize: 3 });
      const batches = await collectBatches(stream.batches());
      const flat = batches.flatMap((b) =>
        Array.from({ length: b.length }, (_, r) => ({
          id: b.ids[r],
          servedAt: b.servedAtMs[r],
          label: b.labels[r],
          columns: b.columns.map((c) => c[r]),
          context: b.contexts[r],
        })),
      );
      expect(flat.map((f) => f.id)).toEqual(rows.map((r) => r.id));
      expect(flat.map((f) => f.servedAt)).toEqual(rows.map((r) => r.servedAt.getTime()));
      expect(flat.map((f) => f.label)).toEqual(rows.map((r) => r.label));
      const odd = flat.find((f) => f.id === 'odd\tvalues')!;
      expect(odd.columns[0]).toBe('slot\\with\nnewline');
      expect(odd.columns[1]).toBeNull();
      expect(odd.context).toEqual(impressions[8]!.impression.context);
      expect(stream.stats.rows).toBe(rows.length);
      if (transport === 'cursor') expect(batches.length).toBeGreaterThan(1);
    }
  });
});

describe('readTrainingRows: negative down-sampling in the database', () => {
  const labelled = async () => Object.fromEntries((await collect(read())).map((r) => [r.id, r.label]));

  it('keeps every click and exactly the non-clicks whose id hash falls under the rate, over COPY and cursor', async () => {
    const all = await labelled();
    const seed = 7;
    const expected = Object.keys(all).filter((id) => all[id] === 1 || keepsNegative(id, 0.5, seed));
    // The fixture's draws drop some non-clicks and keep others at this seed (else the test would prove little).
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.length).toBeLessThan(Object.keys(all).length);
    for (const transport of ['copy', 'cursor'] as const) {
      const stream = read({ transport, negativeSampling: { rate: 0.5, seed } });
      const rows = await collect(stream);
      expect(rows.map((r) => r.id).sort()).toEqual([...expected].sort());
      expect(rows.filter((r) => r.label === 1)).toHaveLength(3);
      // Order is still served_at, then id.
      expect(rows.map((r) => r.id)).toEqual(Object.keys(all).filter((id) => expected.includes(id)));
      expect(stream.stats.positives).toBe(3);
    }
  });

  it('is reproducible, and rate 1 keeps every row', async () => {
    const a = await collect(read({ negativeSampling: { rate: 0.3, seed: 1 } }));
    const b = await collect(read({ negativeSampling: { rate: 0.3, seed: 1 } }));
    expect(b).toEqual(a);
    expect(await collect(read({ negativeSampling: { rate: 1 } }))).toEqual(await collect(read()));
  });

  it('rejects a rate outside (0, 1]', () => {
    expect(() => read({ negativeSampling: { rate: 0 } })).toThrow(/negativeSampling/);
    expect(() => read({ negativeSampling: { rate: 1.5 } })).toThrow(/negativeSampling/);
  });
});

describe('readTrainingRows: streaming and connections', () => {
  it('works across many cursor batches and with a connection string', async () => {
    const rows = await collect(read({ batchSize: 2, db: databaseUrl() }));
    expect(rows).toHaveLength(10);
  });

  it('gives the connection back when the consumer stops early', async () => {
    const single = createPool(1);
    try {
      for (let round = 0; round < 3; round++) {
        for await (const row of read({ db: single, batchSize: 1 })) {
          expect(row.id).toBe('click-inside');
          break;
        }
      }
      const { rows } = await single.query('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
      // The reader's read-only transaction was ended, not leaked into the pooled connection.
      const ro = await single.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
      expect(ro.rows[0]!.transaction_read_only).toBe('off');
      expect(single.totalCount).toBeLessThanOrEqual(1);
    } finally {
      await single.end();
    }
  });

  it('stops with an AbortedError when the signal fires mid-stream', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const row of read({ signal: controller.signal, batchSize: 1 })) {
          seen.push(row.id);
          if (seen.length === 2) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'FCTR_ABORTED' });
    expect(seen.length).toBeLessThan(10);
  });
  it('reports a connection lost mid-stream as CLICKLOG_READ_FAILED and keeps the pool usable', async () => {
    const appName = `clicklog_kill_${Math.random().toString(36).slice(2)}`;
    const url = new URL(databaseUrl());
    url.searchParams.set('application_name', appName);
    const victim = createPoolFor(url.toString());
    try {
      const seen: string[] = [];
      await expect(
        (async () => {
          for await (const row of read({ db: victim, batchSize: 1 })) {
            seen.push(row.id);
            if (seen.length === 1) {
              await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
                appName,
              ]);
            }
          }
        })(),
      ).rejects.toMatchObject({ code: ClicklogErrorCode.READ_FAILED, message: expect.stringContaining('after') });
      // COPY may already hold every row of this small window when the backend dies; what matters is
      // that the read fails instead of ending as if complete.
      const { rows } = await victim.query('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      await victim.end();
    }
  });
});

describe('readTrainingRows: bad input', () => {
  it('rejects `to` before `from` at call time', () => {
    expect(() => read({ from: at(0), to: at(-1) })).toThrow(
      expect.objectContaining({ code: ClicklogErrorCode.INVALID_WINDOW }),
    );
    expect(() => read({ from: at(0), to: at(0) })).toThrow(/must be after/);
  });

  it('rejects a non-positive attribution window', () => {
    expect(() => read({ attributionWindowMinutes: 0 })).toThrow(
      expect.objectContaining({
        code: ClicklogErrorCode.INVALID_OPTIONS,
        message: expect.stringContaining('attributionWindowMinutes'),
      }),
    );
  });

  it('a window with no eligible rows is a clear error, or empty when allowed', async () => {
    await expect(collect(read({ from: at(-5000), to: at(-4000) }))).rejects.toMatchObject({
      code: ClicklogErrorCode.EMPTY_WINDOW,
      message: expect.stringContaining('label cutoff'),
    });
    // Only impressions inside the label delay: still empty.
    await expect(collect(read({ from: at(-WINDOW + 1), to: at(60) }))).rejects.toMatchObject({
      code: ClicklogErrorCode.EMPTY_WINDOW,
    });
    expect(await collect(read({ from: at(-5000), to: at(-4000), allowEmpty: true }))).toEqual([]);
  });

  it('a missing schema or table says to run the migrations', async () => {
    await expect(collect(read({ schema: uniqueSchema('absent') }))).rejects.toMatchObject({
      code: ClicklogErrorCode.SCHEMA_MISSING,
      message: expect.stringContaining('migrat'),
    });
  });
});
