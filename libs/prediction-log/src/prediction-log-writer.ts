import { errorMessage, type Logger, raceTimer, silentLogger } from '@fallback-ctr/runtime';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { CopyBinaryChunk, chunkBytesFor, encodeModelFields, maxRowBytes, pgTimestamp } from './copy-binary-chunk.js';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';
import { PREDICTIONS_COPY_SQL, type PredictionRole } from './predictions-table.js';
import { createSampler } from './sampler.js';
import { resolveSchema } from './target.js';

/** Why an entry was not written. */
export type DropReason = 'missing_id' | 'unloggable_id' | 'queue_full' | 'write_failed' | 'closed';

export const PredictionLogWriterSettingsSchema = z
  .object({
    /** Share of impressions logged, chosen by a hash of the impression id (the same ids on every pod and role). */
    sampleRate: z.number().min(0).max(1),
    /** Most entries waiting to be written; more are dropped (and counted), never waited for. */
    maxQueue: z.number().int().min(1),
    /** Entries per COPY: a full batch is written at once, a partial one every `flushIntervalMs`. */
    batchSize: z.number().int().min(1),
    flushIntervalMs: z.number().int().min(1),
    /** A COPY (or the connection for it) taking longer than this fails; its entries are dropped. */
    writeTimeoutMs: z.number().int().min(1),
  })
  .refine((s) => s.batchSize <= s.maxQueue, { message: 'batchSize must not exceed maxQueue', path: ['batchSize'] });
export type PredictionLogWriterSettings = z.infer<typeof PredictionLogWriterSettingsSchema>;

export interface PredictionLogWriterOptions extends PredictionLogWriterSettings {
  /** A connection string: the writer opens one connection of its own (borrowing a pool would compete with it). */
  databaseUrl: string;
  schema?: string;
  logger?: Logger;
  /** Counters for /metrics; called synchronously, they must not throw. */
  onWritten?: (count: number) => void;
  onDropped?: (count: number, reason: DropReason) => void;
}

/** The model whose scores are logged, and whether they were served or only shadowed. */
export interface LoggedModel {
  name: string;
  version: string;
  role: PredictionRole;
}

export interface PredictionLogStats {
  written: number;
  dropped: Record<DropReason, number>;
  /** Entries waiting (queued plus the batch being written). */
  queued: number;
}

export interface PredictionLogWriter {
  /**
   * Offers one request's scores (impression i scored `scores[i]`). Never waits and never throws:
   * entries without an id, outside the sample, or beyond the queue's bound are skipped (the last
   * two counted as dropped). Returns how many were queued.
   */
  record(
    model: LoggedModel,
    impressions: ArrayLike<{ id?: string | undefined }>,
    scores: ArrayLike<number>,
    servedAt?: Date,
  ): number;
  stats(): PredictionLogStats;
  /** Writes what is queued now (resolves when that write ended, written or dropped). */
  flush(): Promise<void>;
  /** Stops the timer, writes what is queued (within `timeoutMs`, the rest is dropped) and closes the connection. */
  close(timeoutMs?: number): Promise<void>;
}

/** After a failed write the next one waits this long, doubling up to the cap (the queue drops meanwhile). */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;
/** A chunk's room per row of the batch: an id of ~30 ASCII characters and a short model name fit in it. */
const TYPICAL_ROW_BYTES = 128;
const CHUNK_MAX_BYTES = 4 * 1024 * 1024;

/**
 * One COPY of one buffer: `end` it into the stream and wait for its 'finish' (pg-copy-streams emits it
 * once PostgreSQL acknowledged the rows) or 'error'. A stream pipeline from a Readable costs several
 * times more CPU per COPY (an AbortSignal, a DOMException, the destroyer), on the pod's event loop.
 */
function copyIn(client: pg.PoolClient, sql: string, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = client.query(copyFrom(sql));
    sink.once('finish', resolve);
    sink.once('error', reject);
    sink.end(payload);
  });
}

/**
 * The inference API's asynchronous prediction log: a bounded in-memory queue of rows already in
 * PostgreSQL's binary COPY format (CopyBinaryChunk: a few byte stores per row, no string or object),
 * written by one connection in batches (`COPY … FROM STDIN (FORMAT binary)`), one batch at a time.
 * The request path only hashes the ids for the sample and packs the sampled rows; when the database is
 * slow or down the queue fills and new entries are dropped and counted: /predict never waits on it. A
 * failed batch is dropped (counted), not retried, so memory stays bounded by `maxQueue` rows.
 */
export function createPredictionLogWriter(options: PredictionLogWriterOptions): PredictionLogWriter {
  const parsed = PredictionLogWriterSettingsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PredictionLogError(
      PredictionLogErrorCode.INVALID_OPTIONS,
      `Invalid prediction-log setting ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const settings = parsed.data;
  const schema = resolveSchema(options);
  const copySql = PREDICTIONS_COPY_SQL(schema);
  const logger = (options.logger ?? silentLogger()).child({ component: 'prediction-log' });
  const onWritten = options.onWritten ?? (() => undefined);
  const onDropped = options.onDropped ?? (() => undefined);
  const sampled = createSampler(settings.sampleRate);
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 1,
    connectionTimeoutMillis: settings.writeTimeoutMs,
    // pg applies statement_timeout to COPY too: a stalled server cannot hold the batch forever.
    statement_timeout: settings.writeTimeoutMs,
    application_name: 'fallback-ctr-prediction-log',
  });
  // An idle connection the server closes must not crash the process; the next write reconnects.
  pool.on('error', (error) => logger.warn({ err: error }, 'prediction-log connection lost'));

  const stats: PredictionLogStats = {
    written: 0,
    dropped: { missing_id: 0, unloggable_id: 0, queue_full: 0, write_failed: 0, closed: 0 },
    queued: 0,
  };
  const drop = (count: number, reason: DropReason) => {
    if (count === 0) return;
    stats.dropped[reason] += count;
    onDropped(count, reason);
  };

  // Sized for a batch of typical rows; a chunk that cannot take the next row is sealed early (a smaller
  // COPY), and a row larger than a whole chunk gets one of its own.
  const chunkBytes = chunkBytesFor(Math.min(CHUNK_MAX_BYTES, settings.batchSize * TYPICAL_ROW_BYTES));
  /** Full chunks waiting for the connection, oldest first; `filling` takes the rows being recorded. */
  const full: CopyBinaryChunk[] = [];
  let filling: CopyBinaryChunk | undefined;
  /** Chunks whose COPY ended, kept for reuse: a steady log allocates no new buffers. */
  const spare: CopyBinaryChunk[] = [];
  const takeChunk = (rowBytes: number): CopyBinaryChunk => {
    const needed = chunkBytesFor(rowBytes);
    const reused = spare.pop();
    if (reused !== undefined && reused.capacity >= needed) return reused;
    return new CopyBinaryChunk(Math.max(chunkBytes, needed));
  };
  const sealFilling = () => {
    if (filling !== undefined && filling.rows > 0) full.push(filling);
    filling = undefined;
  };

  let writing: Promise<void> | undefined;
  let failures = 0;
  let retryAt = 0;
  let closed = false;
  /** Each model's name, version and role fields, encoded once per model object. */
  const modelFields = new WeakMap<LoggedModel, Uint8Array>();

  const writeBatch = async (chunk: CopyBinaryChunk): Promise<void> => {
    const rows = chunk.rows;
    try {
      const client = await pool.connect();
      let broken = false;
      try {
        await copyIn(client, copySql, chunk.seal());
      } catch (error) {
        broken = true;
        throw error;
      } finally {
        client.release(broken);
      }
      stats.written += rows;
      onWritten(rows);
      failures = 0;
      retryAt = 0;
    } catch (error) {
      failures++;
      retryAt = Date.now() + Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (failures - 1));
      drop(rows, 'write_failed');
      // One line per failure streak (the first) and then every 100th: a down database must not flood the log.
      if (failures === 1 || failures % 100 === 0) {
        logger.warn({ err: error, dropped: rows, failures }, `prediction log write failed: ${errorMessage(error)}`);
      }
    }
  };

  const startWrite = (): Promise<void> => {
    if (writing) return writing;
    if (Date.now() < retryAt) return Promise.resolve();
    if (full.length === 0) sealFilling();
    const chunk = full.shift();
    if (chunk === undefined) return Promise.resolve();
    writing = writeBatch(chunk).finally(() => {
      stats.queued -= chunk.rows;
      chunk.reset();
      if (spare.length < 2) spare.push(chunk);
      writing = undefined;
      if (!closed && full.length > 0) void startWrite();
    });
    return writing;
  };

  const timer = setInterval(() => void startWrite(), settings.flushIntervalMs);
  timer.unref();

  return {
    record(model, impressions, scores, servedAt) {
      if (closed) {
        drop(impressions.length, 'closed');
        return 0;
      }
      let fields = modelFields.get(model);
      if (fields === undefined) {
        fields = encodeModelFields(model.name, model.version, model.role);
        modelFields.set(model, fields);
      }
      const time = pgTimestamp(servedAt === undefined ? Date.now() : servedAt.getTime());
      let queued = 0;
      let missing = 0;
      let unloggable = 0;
      let dropped = 0;
      for (let i = 0; i < impressions.length; i++) {
        const id = impressions[i]?.id;
        if (id === undefined) {
          missing++;
          continue;
        }
        if (!sampled(id)) continue;
        // PostgreSQL's text cannot hold NUL: one such id would fail the whole COPY and lose its batch.
        if (id.includes('\0')) {
          unloggable++;
          continue;
        }
        if (stats.queued >= settings.maxQueue) {
          dropped++;
          continue;
        }
        const rowBytes = maxRowBytes(id.length, fields);
        if (filling !== undefined && !filling.fits(rowBytes)) sealFilling();
        if (filling === undefined) filling = takeChunk(rowBytes);
        filling.append(id, fields, scores[i] as number, time);
        stats.queued++;
        queued++;
        if (filling.rows >= settings.batchSize) sealFilling();
      }
      drop(missing, 'missing_id');
      drop(unloggable, 'unloggable_id');
      drop(dropped, 'queue_full');
      if (full.length > 0) void startWrite();
      return queued;
    },
    stats: () => ({ ...stats, dropped: { ...stats.dropped } }),
    async flush() {
      // Drain whole: the write in flight, then everything queued before this call.
      await writing;
      retryAt = 0;
      sealFilling();
      while (full.length > 0 && Date.now() >= retryAt) await startWrite();
    },
    async close(timeoutMs = 5_000) {
      if (closed) return;
      clearInterval(timer);
      const flushed = this.flush();
      closed = true;
      await raceTimer(flushed, timeoutMs, () => undefined);
      sealFilling();
      const left = full.reduce((sum, chunk) => sum + chunk.rows, 0);
      full.length = 0;
      stats.queued -= left;
      drop(left, 'closed');
      await pool.end().catch(() => undefined);
    },
  };
}
