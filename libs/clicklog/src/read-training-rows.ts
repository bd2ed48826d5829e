import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { impressionAt, RAW_COLUMNS } from '@fallback-ctr/model';
import { AbortedError, errorMessage, type Logger, silentLogger } from '@fallback-ctr/runtime';
import { to as copyTo } from 'pg-copy-streams';
import QueryStream from 'pg-query-stream';
import { z } from 'zod';
import { assertTables, lease, type Queryable, resolveSchema } from './connection.js';
import { acceptsCopyOverWire } from './copy-text.js';
import { CopyTextLineSplitter, decodeCopyField, splitCopyTextFields, timestampLiteral } from './copy-text-decoder.js';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { LabelWindowShape } from './label-window.js';
import { assertWindow, parseOptions } from './parse-options.js';
import type { ClicklogTarget } from './target.js';
import { TrainingBatchBuilder } from './training-batch-builder.js';
import type { TrainingBatch, TrainingRow } from './training-row.js';

export const NegativeSamplingSchema = z
  .object({
    /** Share of non-clicks kept, in (0, 1]; 1 keeps every row. */
    rate: z.number().gt(0).lte(1),
    /** Salt of the hash: another seed keeps another set of non-clicks. */
    seed: z.number().int().min(0).max(0xffffffff).default(0),
  })
  .strict();
export type NegativeSampling = z.output<typeof NegativeSamplingSchema>;

export const ReadTrainingRowsOptionsSchema = z.object({
  ...LabelWindowShape,
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
  /**
   * Negative down-sampling in the database, so dropped rows never cross the wire: a non-click is kept
   * when the first 32 bits of md5("<impression id>:<seed>") are below rate · 2^32 (keepsNegative), the
   * same rows on every read. Clicks are always kept. The learner re-calibrates by the rate.
   */
  negativeSampling: NegativeSamplingSchema.optional(),
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
  /**
   * The same rows by column, a batch at a time (no object per row): what a consumer that featurises
   * uses. Each call opens a read of its own, as iterating the stream does.
   */
  batches(): AsyncIterable<TrainingBatch>;
}

/** Rows of the cursor fallback: every column selected as text, in rowsSql's order. */
type TextRow = (string | null)[];
/** Rows per batch of the COPY path at most (a batch is otherwise what one network read brought). */
const COPY_BATCH_ROWS = 4_096;
/** How long an early stop waits for the server to close the cursor before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5_000;

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
  negativeSampling?: NegativeSampling | undefined;
}

/** The down-sampling draw of an impression id: md5("<id>:<seed>")'s first 32 bits, as the SQL computes it. */
export function negativeDraw(id: string, seed: number): number {
  return Number.parseInt(createHash('md5').update(`${id}:${seed}`).digest('hex').slice(0, 8), 16);
}

/** True when down-sampling at `rate` keeps the non-click `id` (what the reader's SQL decides). */
export function keepsNegative(id: string, rate: number, seed: number): boolean {
  return negativeDraw(id, seed) < keepThreshold(rate);
}

function keepThreshold(rate: number): number {
  return Math.floor(rate * 2 ** 32);
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
  const rows = `SELECT i.id, (extract(epoch FROM i.served_at) * 1000)::text AS served_ms, ${columns}, i.context::text AS context,
  (i.id IN (
    SELECT c.impression_id FROM ${schema}.clicks c JOIN ${schema}.impressions j ON j.id = c.impression_id
    WHERE ${eligible('j')}
      AND c.clicked_at >= j.served_at AND c.clicked_at <= j.served_at + ${seconds} * interval '1 second'
  ))::text AS label${q.includeTrueCtr ? ', t.true_ctr::text AS true_ctr' : ''}
FROM ${schema}.impressions i${q.includeTrueCtr ? ` LEFT JOIN ${schema}.truth t ON t.impression_id = i.id` : ''}
WHERE ${eligible('i')}
ORDER BY i.served_at, i.id`;
  const sampling = q.negativeSampling;
  if (sampling === undefined || sampling.rate >= 1) return rows;
  // OFFSET 0 keeps the subquery whole, so the clicked set is hashed once (not again for the filter);
  // the filter streams the ordered rows through, order kept.
  const outputs = ['id', 'served_ms', ...RAW_COLUMNS, 'context', 'label', ...(q.includeTrueCtr ? ['true_ctr'] : [])];
  const draw = `('x' || left(md5(s.id || ':${sampling.seed}'), 8))::bit(32)::bigint`;
  return `SELECT ${outputs.map((c) => `s.${c}`).join(', ')}
FROM (${rows} OFFSET 0) s
WHERE s.label = 'true' OR ${draw} < ${keepThreshold(sampling.rate)}`;
}

/** Row r of a batch as the row object of the row-at-a-time interface. */
function rowAt(batch: TrainingBatch, r: number): TrainingRow {
  const row: TrainingRow = {
    id: batch.ids[r] as string,
    servedAt: new Date(batch.servedAtMs[r] as number),
    label: batch.labels[r] === 1 ? 1 : 0,
    impression: impressionAt(batch, r),
  };
  const trueCtr = batch.trueCtr?.[r];
  if (trueCtr !== undefined && !Number.isNaN(trueCtr)) row.trueCtr = trueCtr;
  return row;
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
  const batches = () => iterateBatches(options, schema, settings, stats, logger);
  return {
    stats,
    batches: () => ({ [Symbol.asyncIterator]: batches }),
    [Symbol.asyncIterator]: async function* () {
      const { signal } = options;
      for await (const batch of batches()) {
        for (let r = 0; r < batch.length; r++) {
          yield rowAt(batch, r);
          if (signal?.aborted) throw new AbortedError('reading training rows', signal.reason);
        }
      }
    },
  };
}

/** Where the rows come from: a batch of decoded rows at a time, null at the end. */
interface RowBatches {
  next(): Promise<TrainingBatch | null>;
  /** Stops early; true when the connection is clean enough to go back to the pool. */
  stop(): Promise<boolean>;
}

/** Waits for a readable stream to have data or end, racing the reader's failure promise. */
async function readable(stream: Readable, ended: Promise<unknown>, failure: Promise<never>): Promise<boolean> {
  return Promise.race([once(stream, 'readable').then(() => true), ended.then(() => false), failure]);
}

function copyBatches(client: Queryable, sql: string, withTrueCtr: boolean, failure: Promise<never>): RowBatches {
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
  const ended = once(stream, 'end');
  ended.catch(() => undefined);
  const lines = new CopyTextLineSplitter();
  const fields: (string | null)[] = [];
  const builder = new TrainingBatchBuilder(withTrueCtr);
  const onLine = (line: string) => {
    const n = splitCopyTextFields(line, fields as string[]);
    for (let f = 0; f < n; f++) fields[f] = decodeCopyField(fields[f] as string);
    fields.length = n;
    builder.add(fields);
  };
  return {
    async next() {
      for (;;) {
        const chunk: Buffer | null = stream.read();
        if (chunk !== null) {
          lines.push(chunk, onLine);
          if (builder.length >= COPY_BATCH_ROWS) return builder.take();
          continue;
        }
        if (builder.length > 0) return builder.take();
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

function cursorBatches(
  client: Queryable,
  sql: string,
  batchSize: number,
  withTrueCtr: boolean,
  failure: Promise<never>,
): RowBatches {
  const stream = new QueryStream(sql, [], { batchSize, highWaterMark: batchSize, rowMode: 'array' });
  client.query(stream);
  const ended = once(stream, 'end');
  ended.catch(() => undefined);
  const builder = new TrainingBatchBuilder(withTrueCtr);
  return {
    async next() {
      for (;;) {
        for (let raw: TextRow | null = stream.read(); raw !== null; raw = stream.read()) {
          builder.add(raw);
          if (builder.length >= batchSize) break;
        }
        if (builder.length > 0) return builder.take();
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

async function* iterateBatches(
  options: ReadTrainingRowsOptions,
  schema: string,
  settings: ReadTrainingRowsSettings,
  stats: ReadStats,
  logger: Logger,
): AsyncGenerator<TrainingBatch> {
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
    const withTrueCtr = settings.includeTrueCtr;
    source = copy
      ? copyBatches(l.client, sql, withTrueCtr, failure)
      : cursorBatches(l.client, sql, settings.batchSize, withTrueCtr, failure);
    try {
      for (let batch = await source.next(); batch !== null; batch = await source.next()) {
        stats.rows += batch.length;
        for (let r = 0; r < batch.length; r++) stats.positives += batch.labels[r] as number;
        yield batch;
        if (signal?.aborted) throw new AbortedError('reading training rows', signal.reason);
        if (connectionFailed) await failure;
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
