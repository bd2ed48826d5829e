import { RAW_COLUMNS } from '@fallback-ctr/model';
import type pg from 'pg';
import { psi, type ValueCounts } from './psi.js';

/** Most context keys compared (found in the reference window). */
const MAX_CONTEXT_KEYS = 32;
/** Most distinct values read per field and window (the rest count as "other"). */
const MAX_VALUES = 1_000;

export interface Window {
  from: Date;
  to: Date;
}

export interface FieldDrift {
  /** A column name, or `context.<key>`. */
  field: string;
  psi: number;
  /** The value whose share moved most, with its share in the reference and the recent window. */
  mover: { value: string | null; reference: number; recent: number } | null;
}

async function valueCounts(
  db: pg.Pool,
  schema: string,
  expression: string,
  w: Window,
): Promise<Map<string | null, number>> {
  const { rows } = await db.query<{ value: string | null; n: string }>(
    `SELECT ${expression} AS value, count(*) AS n FROM ${schema}.impressions
     WHERE served_at >= $1 AND served_at < $2 GROUP BY 1 ORDER BY 2 DESC LIMIT ${MAX_VALUES}`,
    [w.from, w.to],
  );
  return new Map(rows.map((r) => [r.value, Number(r.n)]));
}

function biggestMover(reference: ValueCounts, recent: ValueCounts): FieldDrift['mover'] {
  const total = (c: ValueCounts) => [...c.values()].reduce((a, b) => a + b, 0);
  const te = total(reference);
  const ta = total(recent);
  let best: FieldDrift['mover'] = null;
  for (const value of new Set([...reference.keys(), ...recent.keys()])) {
    const e = te > 0 ? (reference.get(value) ?? 0) / te : 0;
    const a = ta > 0 ? (recent.get(value) ?? 0) / ta : 0;
    if (best === null || Math.abs(a - e) > Math.abs(best.recent - best.reference)) {
      best = { value, reference: e, recent: a };
    }
  }
  return best;
}

/**
 * Population stability per field between a reference window (the champion's training window) and the
 * recent traffic: every raw column and the context keys found in the reference, most moved first.
 */
export async function fieldDrift(
  db: pg.Pool,
  schema: string,
  reference: Window,
  recent: Window,
): Promise<FieldDrift[]> {
  const { rows: keys } = await db.query<{ key: string }>(
    `SELECT DISTINCT jsonb_object_keys(context) AS key FROM (
       SELECT context FROM ${schema}.impressions WHERE served_at >= $1 AND served_at < $2 LIMIT 10000
     ) s ORDER BY 1 LIMIT ${MAX_CONTEXT_KEYS}`,
    [reference.from, reference.to],
  );
  const fields = [
    ...RAW_COLUMNS.map((column) => ({ field: column, expression: column })),
    ...keys
      .filter((k) => /^[A-Za-z0-9_.-]{1,64}$/.test(k.key))
      .map((k) => ({ field: `context.${k.key}`, expression: `context->>'${k.key}'` })),
  ];
  const drift: FieldDrift[] = [];
  for (const { field, expression } of fields) {
    const e = await valueCounts(db, schema, expression, reference);
    const a = await valueCounts(db, schema, expression, recent);
    drift.push({ field, psi: psi(e, a), mover: biggestMover(e, a) });
  }
  return drift.sort((x, y) => (Number.isNaN(y.psi) ? -1 : Number.isNaN(x.psi) ? 1 : y.psi - x.psi));
}
