import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage, type Logger, raceTimer, silentLogger } from '@fallback-ctr/runtime';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';
import { PREDICTIONS_COPY_SQL, type PredictionRole } from './predictions-table.js';
import { createSampler } from './sampler.js';
import { resolveSchema } from './target.js';

/** Why an entry was not written. */
export type DropReason = 'missing_id' | 'queue_full' | 'write_failed' | 'closed';

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

const COPY_NEEDS_ESCAPE = /[\\\t\n\r]/;
function copyText(value: string): string {
  if (!COPY_NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** After a failed write the next one waits this long, doubling up to the cap (the queue drops meanwhile). */
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 30_000;

/**
 * The inference API's asynchronous prediction log: a bounded in-memory queue of COPY text lines,
 * written by one connection in batches (`COPY … FROM STDIN`), one batch at a time. The request path
 * only formats lines and appends them; when the database is slow or down the queue fills and new
 * entries are dropped and counted: /predict never waits on it. A failed batch is dropped (counted),
 * not retried, so memory stays bounded by `maxQueue` lines.
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
    dropped: { missing_id: 0, queue_full: 0, write_failed: 0, closed: 0 },
    queued: 0,
  };
  const drop = (count: number, reason: DropReason) => {
    if (count === 0) return;
    stats.dropped[reason] += count;
    onDropped(count, reason);
  };

  let lines: string[] = [];
  let writing: Promise<void> | undefined;
  let failures = 0;
  let retryAt = 0;
  let closed = false;
  /** The "\t<ISO time>\n" end of a line, formatted once per millisecond. */
  let tailAt = -1;
  let tailText = '';
  const nowTail = () => {
    const now = Date.now();
    if (now !== tailAt) {
      tailAt = now;
      tailText = `\t${new Date(now).toISOString()}\n`;
    }
    return tailText;
  };
  /** The escaped "\tname\tversion\trole\t" middle of a line, per model object. */
  const middles = new WeakMap<LoggedModel, string>();

  const writeBatch = async (batch: string[]): Promise<void> => {
    try {
      const client = await pool.connect();
      let broken = false;
      try {
        const sink = client.query(copyFrom(copySql));
        await pipeline(Readable.from([batch.join('')]), sink);
      } catch (error) {
        broken = true;
        throw error;
      } finally {
        client.release(broken);
      }
      stats.written += batch.length;
      onWritten(batch.length);
      failures = 0;
      retryAt = 0;
    } catch (error) {
      failures++;
      retryAt = Date.now() + Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (failures - 1));
      drop(batch.length, 'write_failed');
      // One line per failure streak (the first) and then every 100th: a down database must not flood the log.
      if (failures === 1 || failures % 100 === 0) {
        logger.warn(
          { err: error, dropped: batch.length, failures },
          `prediction log write failed: ${errorMessage(error)}`,
        );
      }
    }
  };

  const startWrite = (): Promise<void> => {
    if (writing) return writing;
    if (lines.length === 0 || Date.now() < retryAt) return Promise.resolve();
    const batch = lines.length > settings.batchSize ? lines.splice(0, settings.batchSize) : lines;
    if (batch === lines) lines = [];
    writing = writeBatch(batch).finally(() => {
      stats.queued -= batch.length;
      writing = undefined;
      if (!closed && lines.length >= settings.batchSize) void startWrite();
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
      let middle = middles.get(model);
      if (middle === undefined) {
        middle = `\t${copyText(model.name)}\t${copyText(model.version)}\t${model.role}\t`;
        middles.set(model, middle);
      }
      const tail = servedAt === undefined ? nowTail() : `\t${servedAt.toISOString()}\n`;
      let queued = 0;
      let missing = 0;
      let full = 0;
      for (let i = 0; i < impressions.length; i++) {
        const id = impressions[i]?.id;
        if (id === undefined) {
          missing++;
          continue;
        }
        if (!sampled(id)) continue;
        if (stats.queued >= settings.maxQueue) {
          full++;
          continue;
        }
        lines.push(`${copyText(id)}${middle}${scores[i]}${tail}`);
        stats.queued++;
        queued++;
      }
      drop(missing, 'missing_id');
      drop(full, 'queue_full');
      if (lines.length >= settings.batchSize) void startWrite();
      return queued;
    },
    stats: () => ({ ...stats, dropped: { ...stats.dropped } }),
    async flush() {
      // Drain whole: the write in flight, then everything queued before this call.
      await writing;
      retryAt = 0;
      while (lines.length > 0 && Date.now() >= retryAt) await startWrite();
    },
    async close(timeoutMs = 5_000) {
      if (closed) return;
      clearInterval(timer);
      const flushed = this.flush();
      closed = true;
      await raceTimer(flushed, timeoutMs, () => undefined);
      const left = lines.length;
      lines = [];
      stats.queued -= left;
      drop(left, 'closed');
      await pool.end().catch(() => undefined);
    },
  };
}
