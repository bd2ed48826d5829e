import { once } from 'node:events';
import { AbortedError, type Logger, silentLogger } from '@fallback-ctr/runtime';
import QueryStream from 'pg-query-stream';
import { z } from 'zod';
import { assertTables, lease, type Queryable, resolveSchema } from './connection.js';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { assertWindow, parseOptions } from './parse-options.js';
import { IMPRESSION_COLUMNS, type RawImpression } from './raw-impression.js';
import type { ClicklogTarget } from './target.js';
import type { TrainingRow } from './training-row.js';

export const ReadTrainingRowsOptionsSchema = z.object({
  /** Inclusive start of the window (served_at >= from). */
  from: z.date(),
  /** Exclusive end of the window (served_at < to). */
  to: z.date(),
  /** A click counts when clicked_at - served_at is in [0, this many minutes]. */
  attributionWindowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  /**
   * The read's "now" for the label-delay rule: impressions served after now - attribution window
   * are excluded (their clicks may still arrive). Default: the database's now().
   */
  now: z.date().optional(),
  /** Join the synthetic truth table and set `trueCtr` on each row. */
  includeTrueCtr: z.boolean().default(false),
  /** Rows fetched per round trip by the server-side cursor (also the stream's buffer). */
  batchSize: z.number().int().min(1).max(100_000).default(2_000),
  /** When false (default) a window without eligible rows throws CLICKLOG_EMPTY_WINDOW. */
  allowEmpty: z.boolean().default(false),
});
export type ReadTrainingRowsSettings = z.output<typeof ReadTrainingRowsOptionsSchema>;

export interface ReadTrainingRowsOptions extends ClicklogTarget, z.input<typeof ReadTrainingRowsOptionsSchema> {
  signal?: AbortSignal;
  logger?: Logger;
}

/** Filled in while the stream is consumed; final once iteration ends. */
export interface ReadStats {
  /** The "now" the label-delay rule used (injected or the database's). */
  now: Date | null;
  /** Impressions served at or before this instant were eligible (now - attribution window). */
  labelCutoff: Date | null;
  rows: number;
  positives: number;
}

export interface TrainingRowStream extends AsyncIterable<TrainingRow> {
  readonly stats: ReadStats;
}

/** A row in rowMode 'array', in rowsSql's column order (cheaper to decode than one object per row). */
type DbRow = unknown[];
/** How long an early stop waits for the server to close the cursor before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5_000;
const CONTEXT_AT = 2 + IMPRESSION_COLUMNS.length;
const LABEL_AT = CONTEXT_AT + 1;
const TRUE_CTR_AT = CONTEXT_AT + 2;

export function labelCutoff(now: Date, attributionWindowMinutes: number): Date {
  return new Date(now.getTime() - attributionWindowMinutes * 60_000);
}

export async function databaseNow(client: Queryable): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now;
}

/**
 * $1 from, $2 to, $3 label cutoff (inclusive), $4 attribution window in seconds.
 * A click counts when it arrives in [served_at, served_at + window]; every eligible impression is
 * at least one window old at "now", so a click counted here had happened by "now".
 */
function rowsSql(schema: string, includeTrueCtr: boolean): string {
  const columns = IMPRESSION_COLUMNS.map((c) => `i.${c}`).join(', ');
  return `SELECT i.id, i.served_at, ${columns}, i.context,
  EXISTS (
    SELECT 1 FROM ${schema}.clicks c
    WHERE c.impression_id = i.id
      AND c.clicked_at >= i.served_at
      AND c.clicked_at <= i.served_at + $4 * interval '1 second'
  ) AS label${includeTrueCtr ? ', t.true_ctr' : ''}
FROM ${schema}.impressions i${includeTrueCtr ? ` LEFT JOIN ${schema}.truth t ON t.impression_id = i.id` : ''}
WHERE i.served_at >= $1 AND i.served_at < $2 AND i.served_at <= $3
ORDER BY i.served_at, i.id`;
}

function toTrainingRow(row: DbRow): TrainingRow {
  const impression: RawImpression = {};
  for (let c = 0; c < IMPRESSION_COLUMNS.length; c++) {
    const value = row[2 + c] as string | null;
    if (value !== null) impression[IMPRESSION_COLUMNS[c]!] = value;
  }
  const context = row[CONTEXT_AT] as RawImpression['context'] | null;
  if (context !== null) impression.context = context;
  const out: TrainingRow = {
    id: row[0] as string,
    servedAt: row[1] as Date,
    label: row[LABEL_AT] === true ? 1 : 0,
    impression,
  };
  const trueCtr = row[TRUE_CTR_AT] as number | null | undefined;
  if (trueCtr !== undefined && trueCtr !== null) out.trueCtr = trueCtr;
  return out;
}

/**
 * Streams labelled rows of [from, to) in served_at order through a server-side cursor with
 * backpressure: memory does not grow with the number of rows. Read-only (SELECT only).
 * Options are validated at call time; database errors surface on iteration.
 */
export function readTrainingRows(options: ReadTrainingRowsOptions): TrainingRowStream {
  const schema = resolveSchema(options);
  const settings = parseOptions(ReadTrainingRowsOptionsSchema, options, 'readTrainingRows');
  assertWindow(settings.from, settings.to);
  const stats: ReadStats = { now: null, labelCutoff: null, rows: 0, positives: 0 };
  const logger = options.logger ?? silentLogger();
  return {
    stats,
    [Symbol.asyncIterator]: () => iterate(options, schema, settings, stats, logger),
  };
}

async function* iterate(
  options: ReadTrainingRowsOptions,
  schema: string,
  settings: ReadTrainingRowsSettings,
  stats: ReadStats,
  logger: Logger,
): AsyncGenerator<TrainingRow> {
  const { signal } = options;
  signal?.throwIfAborted();
  const l = await lease(options.db);
  let stream: QueryStream | undefined;
  let finished = false;
  let inTransaction = false;
  // Aborts and connection failures settle this promise; the read loop races it, because a dead
  // connection never completes the cursor's close, so the stream itself would wait forever.
  let connectionFailed = false;
  let fail: (error: Error) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => undefined);
  const onAbort = () => fail(new AbortedError('reading training rows', signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  l.onError((error) => {
    connectionFailed = true;
    fail(error);
  });
  try {
    await assertTables(
      l.client,
      schema,
      settings.includeTrueCtr ? ['impressions', 'clicks', 'truth'] : ['impressions', 'clicks'],
    );
    const now = settings.now ?? (await databaseNow(l.client));
    const cutoff = labelCutoff(now, settings.attributionWindowMinutes);
    stats.now = now;
    stats.labelCutoff = cutoff;
    logger.debug({ schema, from: settings.from, to: settings.to, now, labelCutoff: cutoff }, 'streaming training rows');
    // A read-only transaction: one snapshot for the whole stream, and no way to write by accident.
    // JIT compilation costs seconds on this scan-and-sort query and buys nothing.
    inTransaction = true;
    await l.client.query('BEGIN READ ONLY');
    await l.client.query('SET LOCAL jit = off');
    stream = new QueryStream(
      rowsSql(schema, settings.includeTrueCtr),
      [settings.from, settings.to, cutoff, settings.attributionWindowMinutes * 60],
      { batchSize: settings.batchSize, highWaterMark: settings.batchSize, rowMode: 'array' },
    );
    l.client.query(stream);
    const ended = once(stream, 'end');
    ended.catch(() => undefined);
    try {
      // Drain what is buffered synchronously; wait (racing failures) only when the buffer is empty.
      for (;;) {
        const raw: DbRow | null = stream.read();
        if (raw !== null) {
          const row = toTrainingRow(raw);
          stats.rows += 1;
          stats.positives += row.label;
          yield row;
          if (signal?.aborted) throw new AbortedError('reading training rows', signal.reason);
          continue;
        }
        if (stream.readableEnded) break;
        const more = await Promise.race([once(stream, 'readable').then(() => true), ended.then(() => false), failure]);
        if (!more) break;
      }
    } catch (error) {
      if (error instanceof AbortedError || error instanceof ClicklogError) throw error;
      throw new ClicklogError(
        ClicklogErrorCode.READ_FAILED,
        `Reading training rows from schema "${schema}" failed after ${stats.rows} rows: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await l.client.query('COMMIT');
    finished = true;
    if (stats.rows === 0 && !settings.allowEmpty) {
      throw new ClicklogError(
        ClicklogErrorCode.EMPTY_WINDOW,
        `No eligible impressions in schema "${schema}" for [${settings.from.toISOString()}, ${settings.to.toISOString()}) ` +
          `served at or before the label cutoff ${cutoff.toISOString()} (now ${now.toISOString()} minus the ` +
          `${settings.attributionWindowMinutes}-minute attribution window): widen the window, wait, or generate data`,
      );
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    let reusable = finished || !inTransaction;
    if (!reusable) {
      // Stopped early (break, error, abort): close the portal, end the transaction, then give the
      // connection back; one that cannot be cleaned up is discarded instead.
      if (stream && !stream.destroyed) stream.destroy();
      if (stream && !stream.closed && !connectionFailed) {
        await once(stream, 'close', { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => undefined);
      }
      reusable =
        !connectionFailed &&
        (stream === undefined || stream.closed) &&
        (await l.client.query('ROLLBACK').then(
          () => true,
          () => false,
        ));
    }
    await l.done(!reusable);
  }
}
