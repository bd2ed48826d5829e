import { RAW_COLUMNS } from '@fallback-ctr/model';
import { z } from 'zod';
import { assertTables, resolveSchema, withClient } from './connection.js';
import { LabelWindowShape } from './label-window.js';
import { assertWindow, parseOptions } from './parse-options.js';
import { databaseNow, labelCutoff } from './read-training-rows.js';
import type { ClicklogTarget } from './target.js';

/** A field whose presence is counted: a top-level column, or a key of `context`. */
export const ProfiledFieldSchema = z.discriminatedUnion('source', [
  z.object({ name: z.enum(RAW_COLUMNS), source: z.literal('column') }),
  z.object({ name: z.string().min(1).max(64), source: z.literal('context') }),
]);
export type ProfiledField = z.infer<typeof ProfiledFieldSchema>;

export const ProfileWindowOptionsSchema = z.object({
  ...LabelWindowShape,
  /** Where the holdout starts; when given, rows and clicks are also counted per part. */
  holdoutFrom: z.date().optional(),
  fields: z.array(ProfiledFieldSchema).max(256).default([]),
});

export interface ProfileWindowOptions extends ClicklogTarget, z.input<typeof ProfileWindowOptionsSchema> {}

export interface SliceCount {
  rows: number;
  /** Impressions with a click inside the attribution window (the training label). */
  clicks: number;
}

/** Delay quantiles in seconds from an impression to its first click. */
export interface DelayQuantiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface WindowProfile {
  now: Date;
  labelCutoff: Date;
  /** Where the impressions table's data lies, whatever the window: null when it is empty. */
  table: { firstServedAt: Date | null; lastServedAt: Date | null };
  /** Eligible impressions of the window (served at or before the label cutoff). */
  window: SliceCount;
  /** Per part, when `holdoutFrom` was given. */
  train: SliceCount | null;
  holdout: SliceCount | null;
  /** Impressions of the window younger than the attribution window (not eligible yet). */
  pendingRows: number;
  /** Eligible impressions whose first click came after the attribution window (trained as non-clicks). */
  lateClicks: number;
  /** Delay to the first click over every clicked eligible impression, in time or late; null without clicks. */
  clickDelaySeconds: DelayQuantiles | null;
  /** The same over the late ones only. */
  lateClickDelaySeconds: DelayQuantiles | null;
  /** Eligible impressions in which each field is present (not absent, null or ""), in the order given. */
  fields: (ProfiledField & { present: number })[];
}

/** SQL of "field present": the column (validated against RAW_COLUMNS) or the context key ($n). */
function presentSql(field: ProfiledField, param: number): string {
  return field.source === 'column'
    ? `coalesce(${field.name}, '') <> ''`
    : `coalesce(context ->> $${param}::text, '') <> ''`;
}

/**
 * What a training window holds, in one aggregate pass over its impressions (each joined to its first
 * click, the window's first clicks grouped once): eligible rows and clicks (per part when the
 * holdout start is given), clicks that arrived after the attribution window with their delay
 * quantiles, the impressions still inside the label delay, each field's presence, and where the
 * table's data lies (two index look-ups). Read-only.
 */
export async function profileWindow(options: ProfileWindowOptions): Promise<WindowProfile> {
  const schema = resolveSchema(options);
  const s = parseOptions(ProfileWindowOptionsSchema, options, 'profileWindow');
  assertWindow(s.from, s.to);
  return withClient(options.db, async (client) => {
    await assertTables(client, schema, ['impressions', 'clicks']);
    const now = s.now ?? (await databaseNow(client));
    const cutoff = labelCutoff(now, s.attributionWindowMinutes);
    const holdoutFrom = s.holdoutFrom ?? null;
    // $1 from, $2 to, $3 label cutoff, $4 attribution window (s), $5 holdout start, $6.. context keys.
    const params: unknown[] = [s.from, s.to, cutoff, s.attributionWindowMinutes * 60, holdoutFrom];
    const fieldColumns = s.fields.map((f, k) => {
      if (f.source === 'context') params.push(f.name);
      return `count(*) FILTER (WHERE eligible AND ${presentSql(f, params.length)}) AS field_${k}`;
    });
    const quantiles = 'percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY delay_s)';
    // in_time is the reader's label rule verbatim: a click in [served_at, served_at + window].
    // The first clicks are grouped once and hash-joined: a correlated sub-select per impression was
    // inlined into every expression that used it, 3 index probes per impression (1M rows: 11.9 s
    // against 3.4 s, EXPLAIN ANALYZE at load 25).
    const sql = `
WITH first_clicks AS (
  SELECT c.impression_id, min(c.clicked_at) AS first_click
  FROM ${schema}.clicks c JOIN ${schema}.impressions j ON j.id = c.impression_id
  WHERE j.served_at >= $1 AND j.served_at < $2 AND c.clicked_at >= j.served_at
  GROUP BY c.impression_id
), w AS (
  SELECT i.*, i.served_at <= $3 AS eligible, i.served_at >= $5 AS in_holdout,
    f.first_click <= i.served_at + $4::float8 * interval '1 second' AS in_time,
    extract(epoch FROM f.first_click - i.served_at)::float8 AS delay_s
  FROM ${schema}.impressions i LEFT JOIN first_clicks f ON f.impression_id = i.id
  WHERE i.served_at >= $1 AND i.served_at < $2
)
SELECT
  count(*) FILTER (WHERE eligible) AS rows,
  count(*) FILTER (WHERE eligible AND in_time) AS clicks,
  count(*) FILTER (WHERE eligible AND in_holdout) AS holdout_rows,
  count(*) FILTER (WHERE eligible AND in_holdout AND in_time) AS holdout_clicks,
  count(*) FILTER (WHERE NOT eligible) AS pending_rows,
  count(*) FILTER (WHERE eligible AND NOT in_time) AS late_clicks,
  ${quantiles} FILTER (WHERE eligible AND delay_s IS NOT NULL) AS delay_q,
  ${quantiles} FILTER (WHERE eligible AND NOT in_time) AS late_q${fieldColumns.map((c) => `,\n  ${c}`).join('')}
FROM w`;
    await client.query('BEGIN READ ONLY');
    try {
      await client.query('SET LOCAL jit = off');
      // The first clicks' hash table outgrew the default 4 MB at 10M impressions (150k clicked): the join
      // spilled the window's rows to disk in two batches (EXPLAIN ANALYZE 15.4 s, 9.9 s with this).
      await client.query(`SET LOCAL work_mem = '64MB'`);
      const { rows } = await client.query<Record<string, string | number[] | null>>(sql, params);
      const range = await client.query<{ first: Date | null; last: Date | null }>(
        `SELECT (SELECT min(served_at) FROM ${schema}.impressions) AS first,
                (SELECT max(served_at) FROM ${schema}.impressions) AS last`,
      );
      await client.query('COMMIT');
      const r = rows[0]!;
      const n = (key: string) => Number(r[key] ?? 0);
      const window = { rows: n('rows'), clicks: n('clicks') };
      const holdout = holdoutFrom ? { rows: n('holdout_rows'), clicks: n('holdout_clicks') } : null;
      return {
        now,
        labelCutoff: cutoff,
        table: { firstServedAt: range.rows[0]?.first ?? null, lastServedAt: range.rows[0]?.last ?? null },
        window,
        train: holdout ? { rows: window.rows - holdout.rows, clicks: window.clicks - holdout.clicks } : null,
        holdout,
        pendingRows: n('pending_rows'),
        lateClicks: n('late_clicks'),
        clickDelaySeconds: delayQuantiles(r.delay_q),
        lateClickDelaySeconds: delayQuantiles(r.late_q),
        fields: s.fields.map((f, k) => ({ ...f, present: n(`field_${k}`) })),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

function delayQuantiles(value: string | number[] | null | undefined): DelayQuantiles | null {
  if (!Array.isArray(value)) return null;
  const [p50, p90, p99] = value.map(Number);
  return p50 === undefined || p90 === undefined || p99 === undefined ? null : { p50, p90, p99 };
}
