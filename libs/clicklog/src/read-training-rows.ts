import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { RAW_COLUMNS, type RawImpression } from '@fallback-ctr/model';
import { AbortedError, errorMessage, type Logger, silentLogger } from '@fallback-ctr/runtime';
import { to as copyTo } from 'pg-copy-streams';
import QueryStream from 'pg-query-stream';
import { z } from 'zod';
import { assertTables, lease, type Queryable, resolveSchema } from './connection.js';
import { acceptsCopyOverWire } from './copy-text.js';
import { CopyTextLineSplitter, decodeCopyField, splitCopyTextFields, timestampLiteral } from './copy-text-decoder.js';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { assertWindow, parseOptions } from './parse-options.js';
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
  /**
   * Rows per round trip of the server-side cursor, used only where COPY cannot cross the wire
   * (embedded PGlite); COPY streams with the socket's own backpressure.
   */
  batchSize: z.number().int().min(1).max(100_000).default(2_000),
  /**
   * How rows cross the wire: `copy` (COPY … TO STDOUT, decoded here), `cursor` (a server-side
   * cursor through pg's row parser), or `auto`: copy where the server takes it over the wire.
   */
  transport: z.enum(['auto', 'copy', 'cursor']).default('auto'),
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

/** Rows of the cursor fallback: every column selected as text, in rowsSql's order. */
type TextRow = (string | null)[];
/** How long an early stop waits for the server to close the cursor before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5_000;
const COLUMNS_AT = 2;
const CONTEXT_AT = COLUMNS_AT + RAW_COLUMNS.length;
const LABEL_AT = CONTEXT_AT + 1;
const TRUE_CTR_AT = CONTEXT_AT + 2;

export function labelCutoff(now: Date, attributionWindowMinutes: number): Date {
  return new Date(now.getTime() - attributionWindowMinutes * 60_000);
}

export async function databaseNow(client: Queryable): Promise<Date> {
  const { rows } = await client.query<{ now: Date }>('SELECT now() AS now');
  return rows[0]!.now;
}

interface RowsQuery {
  from: Date;
  to: Date;
  cutoff: Date;
  attributionWindowMinutes: number;
  includeTrueCtr: boolean;
}

/**
 * Every column as text (COPY sends text anyway; the cursor fallback then skips pg's per-type
 * parsers), with the window inlined as literals because COPY takes no bind parameters.
 * A click counts when it arrives in [served_at, served_at + window]; every eligible impression is
 * at least one window old at "now", so a click counted here had happened by "now". The clicked set
 * is an uncorrelated IN, which PostgreSQL hashes once, instead of one index probe per impression.
 */
function rowsSql(schema: string, q: RowsQuery): string {
  const columns = RAW_COLUMNS.map((c) => `i.${c}`).join(', ');
  const seconds = Math.round(q.attributionWindowMinutes * 60);
  const eligible = (t: string) =>
    `${t}.served_at >= ${timestampLiteral(q.from)} AND ${t}.served_at < ${timestampLiteral(q.to)} ` +
    `AND ${t}.served_at <= ${timestampLiteral(q.cutoff)}`;
  return `SELECT i.id, (extract(epoch FROM i.served_at) * 1000)::text, ${columns}, i.context::text,
  (i.id IN (
    SELECT c.impression_id FROM ${schema}.clicks c JOIN ${schema}.impressions j ON j.id = c.impression_id
    WHERE ${eligible('j')}
      AND c.clicked_at >= j.served_at AND c.clicked_at <= j.served_at + ${seconds} * interval '1 second'
  ))::text${q.includeTrueCtr ? ', t.true_ctr::text' : ''}
FROM ${schema}.impressions i${q.includeTrueCtr ? ` LEFT JOIN ${schema}.truth t ON t.impression_id = i.id` : ''}
WHERE ${eligible('i')}
ORDER BY i.served_at, i.id`;
}

/** Builds a row from its text fields (null = SQL NULL), in rowsSql's column order. */
function toTrainingRow(fields: TextRow): TrainingRow {
  const impression: RawImpression = {};
  for (let c = 0; c < RAW_COLUMNS.length; c++) {
    const value = fields[COLUMNS_AT + c];
    if (value !== null && value !== undefined) impression[RAW_COLUMNS[c]!] = value;
  }
  const context = fields[CONTEXT_AT];
  if (context !== null && context !== undefined) {
    impression.context = context === '{}' ? {} : (JSON.parse(context) as RawImpression['context']);
  }
  const out: TrainingRow = {
    id: fields[0] as string,
    servedAt: new Date(Math.round(Number(fields[1]))),
    label: fields[LABEL_AT] === 'true' ? 1 : 0,
    impression,
  };
  const trueCtr = fields[TRUE_CTR_AT];
  if (trueCtr !== undefined && trueCtr !== null) out.trueCtr = Number(trueCtr);
  return out;
}

/**
 * Streams labelled rows of [from, to) in served_at order with backpressure: memory does not grow
 * with the number of rows. Read-only (SELECT only). The rows travel as `COPY (SELECT …) TO STDOUT`
 * (text), decoded without pg's per-row machinery; servers that cannot COPY over the wire (embedded
 * PGlite) get the same query through a server-side cursor. Options are validated at call time;
 * database errors surface on iteration.
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

/** Where the rows come from: a batch of decoded rows at a time, null at the end. */
interface RowBatches {
  next(): Promise<TrainingRow[] | null>;
  /** Stops early; true when the connection is clean enough to go back to the pool. */
  stop(): Promise<boolean>;
}

/** Waits for a readable stream to have data or end, racing the reader's failure promise. */
async function readable(stream: Readable, ended: Promise<unknown>, failure: Promise<never>): Promise<boolean> {
  return Promise.race([once(stream, 'readable').then(() => true), ended.then(() => false), failure]);
}

function copyBatches(client: Queryable, sql: string, failure: Promise<never>): RowBatches {
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
  const ended = once(stream, 'end');
  ended.catch(() => undefined);
  const lines = new CopyTextLineSplitter();
  const fields: (string | null)[] = [];
  return {
    async next() {
      for (;;) {
        const chunk: Buffer | null = stream.read();
        if (chunk !== null) {
          const batch: TrainingRow[] = [];
          lines.push(chunk, (line) => {
            const n = splitCopyTextFields(line, fields as string[]);
            for (let f = 0; f < n; f++) fields[f] = decodeCopyField(fields[f] as string);
            fields.length = n;
            batch.push(toTrainingRow(fields));
          });
          if (batch.length > 0) return batch;
          continue;
        }
        if (stream.readableEnded || !(await readable(stream, ended, failure))) {
          const rest = lines.end();
          if (rest.length > 0) throw new Error(`the COPY stream ended inside a row (${rest.length} characters left)`);
          return null;
        }
      }
    },
    async stop() {
      // A COPY cannot be stopped half-way on the same connection: the connection is dropped.
      if (!stream.destroyed) stream.destroy();
      return false;
    },
  };
}

function cursorBatches(client: Queryable, sql: string, batchSize: number, failure: Promise<never>): RowBatches {
  const stream = new QueryStream(sql, [], { batchSize, highWaterMark: batchSize, rowMode: 'array' });
  client.query(stream);
  const ended = once(stream, 'end');
  ended.catch(() => undefined);
  return {
    async next() {
      for (;;) {
        const batch: TrainingRow[] = [];
        for (let raw: TextRow | null = stream.read(); raw !== null; raw = stream.read()) {
          batch.push(toTrainingRow(raw));
          if (batch.length >= batchSize) break;
        }
        if (batch.length > 0) return batch;
        if (stream.readableEnded || !(await readable(stream, ended, failure))) return null;
      }
    },
    async stop() {
      // Close the portal so the transaction can be rolled back and the connection reused.
      if (!stream.destroyed) stream.destroy();
      if (!stream.closed) {
        await once(stream, 'close', { signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => undefined);
      }
      return stream.closed;
    },
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
  let source: RowBatches | undefined;
  let finished = false;
  let inTransaction = false;
  // Aborts and connection failures settle this promise; the read loop races it, because a dead
  // connection never completes the stream, so the stream itself would wait forever.
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
    const sql = rowsSql(schema, { ...settings, cutoff });
    const copy = settings.transport === 'auto' ? await acceptsCopyOverWire(l.client) : settings.transport === 'copy';
    // A read-only transaction: one snapshot for the whole stream, and no way to write by accident.
    // JIT compilation costs seconds on this scan-and-sort query and buys nothing.
    inTransaction = true;
    await l.client.query('BEGIN READ ONLY');
    await l.client.query('SET LOCAL jit = off');
    source = copy ? copyBatches(l.client, sql, failure) : cursorBatches(l.client, sql, settings.batchSize, failure);
    try {
      for (let batch = await source.next(); batch !== null; batch = await source.next()) {
        for (const row of batch) {
          stats.rows += 1;
          stats.positives += row.label;
          yield row;
          if (signal?.aborted) throw new AbortedError('reading training rows', signal.reason);
          if (connectionFailed) await failure;
        }
      }
      await l.client.query('COMMIT');
    } catch (error) {
      if (error instanceof AbortedError || error instanceof ClicklogError) throw error;
      throw new ClicklogError(
        ClicklogErrorCode.READ_FAILED,
        `Reading training rows from schema "${schema}" failed after ${stats.rows} rows: ${errorMessage(error)}`,
        { cause: error },
      );
    }
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
      // Stopped early (break, error, abort): stop the stream, end the transaction, then give the
      // connection back; one that cannot be cleaned up is discarded instead.
      const stopped = source === undefined || connectionFailed ? !connectionFailed : await source.stop();
      reusable =
        stopped &&
        (await l.client.query('ROLLBACK').then(
          () => true,
          () => false,
        ));
    }
    await l.done(!reusable);
  }
}
