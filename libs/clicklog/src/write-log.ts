import { RAW_COLUMNS, type RawImpression } from '@fallback-ctr/model';
import { resolveSchema, withClient } from './connection.js';
import { copyLines, copyText } from './copy-text.js';
import { ClicklogError } from './errors.js';
import { writeError } from './pg-error.js';
import type { ClicklogTarget } from './target.js';

/** One impression as the ad server logs it. */
export interface ImpressionRecord {
  id: string;
  servedAt: Date;
  impression: RawImpression;
}

/** One click as the ad server logs it. */
export interface ClickRecord {
  impressionId: string;
  clickedAt: Date;
}

export interface WriteOptions<T> extends ClicklogTarget {
  rows: Iterable<T> | AsyncIterable<T>;
}

export const IMPRESSIONS_COPY_COLUMNS = ['id', 'served_at', ...RAW_COLUMNS, 'context'] as const;

export function impressionsCopySql(schema: string): string {
  return `COPY ${schema}.impressions (${IMPRESSIONS_COPY_COLUMNS.join(', ')}) FROM STDIN`;
}
export function clicksCopySql(schema: string): string {
  return `COPY ${schema}.clicks (impression_id, clicked_at) FROM STDIN`;
}
export function truthCopySql(schema: string): string {
  return `COPY ${schema}.truth (impression_id, true_ctr) FROM STDIN`;
}

/** The COPY text line of one impression (served_at as epoch milliseconds). */
export function impressionLine(id: string, servedAtMs: number, impression: RawImpression): string {
  let line = `${copyText(id)}\t${new Date(servedAtMs).toISOString()}`;
  for (const column of RAW_COLUMNS) line += `\t${copyText(impression[column])}`;
  return `${line}\t${copyText(JSON.stringify(impression.context ?? {}))}\n`;
}

export function clickLine(impressionId: string, clickedAtMs: number): string {
  return `${copyText(impressionId)}\t${new Date(clickedAtMs).toISOString()}\n`;
}

async function* map<T>(rows: Iterable<T> | AsyncIterable<T>, fn: (row: T) => string): AsyncGenerator<string> {
  for await (const row of rows) yield fn(row);
}

/** COPYs one log's rows in one transaction; the number written. */
async function copyRows<T>(
  options: WriteOptions<T>,
  what: string,
  copySql: (schema: string) => string,
  line: (row: T) => string,
): Promise<number> {
  const schema = resolveSchema(options);
  return withClient(options.db, async (client) => {
    await client.query('BEGIN');
    try {
      const count = await copyLines(client, copySql(schema), map(options.rows, line));
      await client.query('COMMIT');
      return count;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof ClicklogError) throw error;
      throw writeError(error, schema, what);
    }
  });
}

/** Appends impressions with COPY (one transaction). Returns the number written. */
export async function writeImpressions(options: WriteOptions<ImpressionRecord>): Promise<number> {
  return copyRows(options, 'impressions', impressionsCopySql, (r) =>
    impressionLine(r.id, r.servedAt.getTime(), r.impression),
  );
}

/** Appends clicks with COPY (one transaction). Returns the number written. */
export async function writeClicks(options: WriteOptions<ClickRecord>): Promise<number> {
  return copyRows(options, 'clicks', clicksCopySql, (r) => clickLine(r.impressionId, r.clickedAt.getTime()));
}
