import { access, constants } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorMessage, type Logger } from '@fallback-ctr/runtime';
import { assertTables, lease, resolveSchema } from '../connection.js';
import { copyLines } from '../copy-text.js';
import { ClicklogError, ClicklogErrorCode } from '../errors.js';
import { parseOptions } from '../parse-options.js';
import { isDuplicateImpression, writeError } from '../pg-error.js';
import type { ClicklogTarget } from '../target.js';
import { clickLine, IMPRESSIONS_COPY_COLUMNS, impressionsCopySql } from '../write-log.js';
import { type BadRow, BadRowLog } from './bad-rows.js';
import { ClickSpool } from './click-spool.js';
import {
  badRowLimit,
  formatOfFile,
  type ImportFormat,
  type ImportMapping,
  type ImportMappingInput,
  ImportMappingSchema,
} from './import-mapping.js';
import { ReadAhead, segment } from './read-ahead.js';
import { readCsv } from './read-csv.js';
import { readJsonl } from './read-jsonl.js';
import { readParquet } from './read-parquet.js';
import { recordMapper, STAGE_COLUMNS } from './record-mapper.js';
import type { SourceBatch, SourceRecord } from './source-records.js';
import { timestampParser } from './timestamp-parser.js';

export interface ImportProgress {
  phase: 'impressions' | 'clicks' | 'merge';
  file: string;
  /** Rows read so far in this phase (bad ones included). */
  rows: number;
  badRows: number;
  /** Share of the file read, 0..1. */
  progress: number;
  elapsedMs: number;
}

export interface ImportLogOptions extends ClicklogTarget {
  /** The impressions file (CSV, JSONL or Parquet; .csv.gz and .jsonl.gz too). */
  file: string;
  mapping: ImportMappingInput;
  logger?: Logger;
  /** Called after every batch (a few times a second at most is up to the caller). */
  onProgress?: (progress: ImportProgress) => void;
  /** COPY text staged and merged at a time (default 4 MiB); tests make it small to cross segments. */
  segmentBytes?: number;
}

export interface ImportResult {
  schema: string;
  file: string;
  format: ImportFormat;
  /** Rows read from the impressions file (bad ones included). */
  rows: number;
  /** Impressions written now. */
  imported: number;
  /** Good rows whose id was already in the table (or earlier in the file): skipped. */
  skippedDuplicates: number;
  clicks: { read: number; imported: number; skippedDuplicates: number };
  badRows: number;
  /** The first bad rows (file, line, reason); all of them are in `rejectFile` when there are more. */
  rejects: BadRow[];
  rejectFile?: string;
  seconds: number;
  /** Impression rows per second, read to commit. */
  rowsPerSecond: number;
}

/** COPY text per staging segment: ~20k rows, a staging table that fits the default 8 MB temp_buffers. */
const SEGMENT_BYTES = 4 << 20;
/** COPY text parsed ahead of the database at most (memory: this plus one source batch). */
const READ_AHEAD_BYTES = 8 << 20;

function sourceBatches(file: string, format: ImportFormat, delimiter: string): AsyncGenerator<SourceBatch> {
  if (format === 'csv') return readCsv(file, delimiter);
  if (format === 'jsonl') return readJsonl(file);
  return readParquet(file);
}

function assertColumns(file: string, available: readonly string[], required: readonly string[]): void {
  const have = new Set(available);
  const missing = required.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw new ClicklogError(
      ClicklogErrorCode.IMPORT_COLUMN_MISSING,
      `${file} has no column ${missing.map((c) => `"${c}"`).join(', ')} (the mapping names it); its columns: ${available.join(', ')}`,
    );
  }
}

async function assertReadable(file: string, format: ImportFormat | undefined): Promise<ImportFormat> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw new ClicklogError(ClicklogErrorCode.IMPORT_FILE_UNREADABLE, `Cannot read ${file}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  if (format === undefined) {
    throw new ClicklogError(
      ClicklogErrorCode.IMPORT_FILE_UNREADABLE,
      `Cannot tell the format of ${file} from its name: set format (csv, jsonl or parquet)`,
    );
  }
  return format;
}

function sourceError(file: string, error: unknown): ClicklogError {
  if (error instanceof ClicklogError) return error;
  return new ClicklogError(
    ClicklogErrorCode.IMPORT_FILE_UNREADABLE,
    `Reading ${file} failed, nothing was written: ${errorMessage(error)}`,
    { cause: error },
  );
}

/** A record's value of one column, whether its values are by name or by position in `columns`. */
function cellOf(record: SourceRecord, columns: readonly string[] | undefined, column: string): unknown {
  if (!Array.isArray(record.values)) return (record.values as Record<string, unknown>)[column];
  const i = columns?.indexOf(column) ?? -1;
  return i < 0 ? undefined : record.values[i];
}

/** Thrown inside the COPY stream to stop it; unwrapped to its cause after the rollback. */
class StopImport extends Error {
  constructor(readonly reason: unknown) {
    super('import stopped');
  }
}

/**
 * Imports one impressions file (and optionally a separate click file) into the click logs, all in
 * one transaction: rows are COPYed straight into the impressions table; when an id is already there
 * (or twice in the file) that COPY is undone and the file goes through a temporary staging table,
 * merged with `ON CONFLICT DO NOTHING` (ids already present are skipped and counted, so re-importing
 * a file is safe). Bad rows are counted and reported with file, line and reason; past `maxBadRows`
 * the whole import is rolled back. Memory stays flat: one batch of the file at a time (flagged clicks
 * wait in a temporary file while the impressions stream).
 */
export async function importLog(options: ImportLogOptions): Promise<ImportResult> {
  const schema = resolveSchema(options);
  const mapping: ImportMapping = parseOptions(ImportMappingSchema, options.mapping, 'import mapping');
  const file = options.file;
  const format = await assertReadable(file, formatOfFile(file, mapping.format));
  const clicksFormat =
    mapping.clicksFile === undefined
      ? undefined
      : await assertReadable(mapping.clicksFile, formatOfFile(mapping.clicksFile, mapping.format));
  try {
    timestampParser(mapping.timestampFormat, mapping.timeZone);
    timestampParser(mapping.clicksTimestampFormat ?? mapping.timestampFormat, mapping.timeZone);
  } catch (error) {
    throw new ClicklogError(ClicklogErrorCode.INVALID_OPTIONS, `Invalid import mapping: ${errorMessage(error)}`);
  }
  const mapper = recordMapper(mapping, mapping.idPrefix ?? basename(file));
  const rejectFile = mapping.rejectFile ?? `${file}.rejects.jsonl`;
  let bad = new BadRowLog(rejectFile);
  const countLimit = mapping.maxBadRows.endsWith('%') ? undefined : Number(mapping.maxBadRows);
  const started = performance.now();
  let rows = 0;
  let clickRows = 0;

  const report = (phase: ImportProgress['phase'], source: string, read: number, progress: number) =>
    options.onProgress?.({
      phase,
      file: source,
      rows: read,
      badRows: bad.count,
      progress,
      elapsedMs: performance.now() - started,
    });

  const addBad = async (row: BadRow) => {
    await bad.add(row);
    if (countLimit !== undefined && bad.count > countLimit)
      throw new StopImport(tooManyBadRows(file, bad, countLimit, rows));
  };

  /**
   * The impression file as COPY text, one buffer per batch: the staging table's lines (impression
   * columns, then clicked_at), or with `spool` the impression columns only, flagged clicks set aside.
   */
  async function* impressionLines(spool?: ClickSpool): AsyncGenerator<Buffer> {
    let checked = false;
    try {
      for await (const batch of sourceBatches(file, format, mapping.delimiter)) {
        if (!checked && batch.columns !== undefined) assertColumns(file, batch.columns, mapper.requiredColumns);
        checked = true;
        let text = '';
        let clicks = '';
        let clickCount = 0;
        for (const record of batch.records) {
          rows += 1;
          const mapped = mapper.map(record, batch.columns);
          if (!mapped.ok) await addBad({ file, line: record.line, reason: mapped.reason });
          else if (spool === undefined) {
            const at = mapped.clickedAt === undefined ? '\\N' : new Date(mapped.clickedAt).toISOString();
            text += `${mapped.columns}\t${at}\n`;
          } else {
            text += `${mapped.columns}\n`;
            if (mapped.clickedAt !== undefined) {
              clicks += clickLine(mapped.id, mapped.clickedAt);
              clickCount += 1;
            }
          }
        }
        if (clickCount > 0) await spool?.write(clicks, clickCount);
        // One buffer per batch: a yield per row costs more than the row, and bytes are what COPY
        // sends anyway (a queued string of row concatenations would hold far more memory).
        if (text !== '') yield Buffer.from(text, 'utf8');
        report('impressions', file, rows, batch.progress);
      }
    } catch (error) {
      throw error instanceof StopImport ? error : new StopImport(sourceError(file, error));
    }
  }

  async function* clickLines(clicksFile: string, clicksFileFormat: ImportFormat): AsyncGenerator<string> {
    const parse = timestampParser(mapping.clicksTimestampFormat ?? mapping.timestampFormat, mapping.timeZone);
    const required = [mapping.clicksIdColumn, mapping.clicksTimestampColumn];
    let checked = false;
    try {
      for await (const batch of sourceBatches(clicksFile, clicksFileFormat, mapping.delimiter)) {
        if (!checked && batch.columns !== undefined) assertColumns(clicksFile, batch.columns, required);
        checked = true;
        let text = '';
        for (const record of batch.records) {
          clickRows += 1;
          const id = cellOf(record, batch.columns, mapping.clicksIdColumn);
          const at = parse(cellOf(record, batch.columns, mapping.clicksTimestampColumn));
          if (record.error !== undefined) await addBad({ file: clicksFile, line: record.line, reason: record.error });
          else if (id === undefined || id === null || id === '') {
            await addBad({ file: clicksFile, line: record.line, reason: `${mapping.clicksIdColumn} is empty` });
          } else if (typeof at === 'string') {
            await addBad({ file: clicksFile, line: record.line, reason: `${mapping.clicksTimestampColumn}: ${at}` });
          } else text += clickLine(String(id), at);
        }
        if (text !== '') yield text;
        report('clicks', clicksFile, clickRows, batch.progress);
      }
    } catch (error) {
      throw error instanceof StopImport ? error : new StopImport(sourceError(clicksFile, error));
    }
  }

  const l = await lease(options.db);
  let discard = false;
  const { client } = l;
  try {
    await client.query('BEGIN');
    try {
      await assertTables(client, schema, ['impressions', 'clicks']);
      // One import per schema at a time: two concurrent imports of the same file would both miss
      // each other's uncommitted clicks and write them twice.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fallback-ctr:clicklog-import:${schema}`]);
      await client.query(
        `CREATE TEMP TABLE import_stage (LIKE ${schema}.impressions INCLUDING DEFAULTS, clicked_at timestamptz) ON COMMIT DROP`,
      );
      await client.query(
        'CREATE TEMP TABLE import_stage_clicks (impression_id text, clicked_at timestamptz) ON COMMIT DROP',
      );
      const columns = IMPRESSIONS_COPY_COLUMNS.join(', ');
      let staged = 0;
      let imported = 0;
      let flaggedClicks = 0;

      // First try: COPY straight into the impressions table, the cheapest write there is. An id
      // already there (a re-import) or twice in the file breaks the primary key: back to the
      // savepoint, and the file goes again through the staging table, whose merge skips them.
      await client.query('SAVEPOINT import_direct');
      const spool = await ClickSpool.create();
      let direct = true;
      try {
        staged = await copyLines(client, impressionsCopySql(schema), impressionLines(spool));
        imported = staged;
        const spooled = await spool.read();
        if (spooled !== undefined) {
          flaggedClicks = spool.lines;
          await copyLines(client, 'COPY import_stage_clicks (impression_id, clicked_at) FROM STDIN', spooled);
        }
        await client.query('RELEASE SAVEPOINT import_direct');
      } catch (error) {
        if (!isDuplicateImpression(error)) throw error;
        direct = false;
      } finally {
        await spool.remove();
      }

      if (!direct) {
        await client.query('ROLLBACK TO SAVEPOINT import_direct');
        await bad.close();
        bad = new BadRowLog(rejectFile); // the second read reports every bad row again
        rows = 0;
        staged = 0;
        // By segments: COPY a segment into the staging table, merge it, empty the table, next.
        // The file is parsed ahead while a segment merges (the database and Node each keep a core
        // busy), and the staging table stays small enough for the session's temp buffers.
        const copyStage = `COPY import_stage (${STAGE_COLUMNS.join(', ')}) FROM STDIN`;
        const ahead = new ReadAhead(impressionLines(), READ_AHEAD_BYTES);
        try {
          for (let first = await ahead.next(); first !== undefined; first = await ahead.next()) {
            staged += await copyLines(client, copyStage, segment(ahead, first, options.segmentBytes ?? SEGMENT_BYTES));
            const inserted = await client.query(
              `INSERT INTO ${schema}.impressions (${columns}) SELECT ${columns} FROM import_stage ON CONFLICT (id) DO NOTHING`,
            );
            imported += inserted.rowCount ?? 0;
            const flagged = await client.query(
              'INSERT INTO import_stage_clicks (impression_id, clicked_at) SELECT id, clicked_at FROM import_stage WHERE clicked_at IS NOT NULL',
            );
            flaggedClicks += flagged.rowCount ?? 0;
            await client.query('TRUNCATE import_stage');
          }
        } finally {
          await ahead.stop();
        }
      }
      let stagedClicks = 0;
      if (mapping.clicksFile !== undefined && clicksFormat !== undefined) {
        stagedClicks = await copyLines(
          client,
          'COPY import_stage_clicks (impression_id, clicked_at) FROM STDIN',
          clickLines(mapping.clicksFile, clicksFormat),
        );
      }
      await bad.close();
      const limit = countLimit ?? badRowLimit(mapping.maxBadRows, rows + clickRows);
      if (bad.count > limit) throw new StopImport(tooManyBadRows(file, bad, limit, rows + clickRows));

      report('merge', file, rows, 1);
      const clicksRead = stagedClicks + flaggedClicks;
      const clicksInserted = await client.query(
        `INSERT INTO ${schema}.clicks (impression_id, clicked_at)
         SELECT DISTINCT s.impression_id, s.clicked_at FROM import_stage_clicks s
         WHERE NOT EXISTS (SELECT 1 FROM ${schema}.clicks c WHERE c.impression_id = s.impression_id AND c.clicked_at = s.clicked_at)`,
      );
      await client.query('COMMIT');
      const clicksImported = clicksInserted.rowCount ?? 0;
      if (imported > 0) await client.query(`ANALYZE ${schema}.impressions, ${schema}.clicks`);
      const seconds = (performance.now() - started) / 1000;
      const result: ImportResult = {
        schema,
        file,
        format,
        rows,
        imported,
        skippedDuplicates: staged - imported,
        clicks: { read: clicksRead, imported: clicksImported, skippedDuplicates: clicksRead - clicksImported },
        badRows: bad.count,
        rejects: bad.first,
        ...(bad.written === undefined ? {} : { rejectFile: bad.written }),
        seconds,
        rowsPerSecond: seconds > 0 ? rows / seconds : 0,
      };
      options.logger?.info({ ...result, rejects: undefined }, 'clicklog import committed');
      return result;
    } catch (error) {
      // A COPY stopped midway may leave the connection unusable: roll back, then never reuse it.
      discard = true;
      await client.query('ROLLBACK').catch(() => undefined);
      await bad.close().catch(() => undefined);
      const cause = findStop(error);
      if (cause !== undefined) throw cause;
      if (error instanceof ClicklogError) throw error;
      throw writeError(error, schema, `an import of ${file}`);
    }
  } finally {
    await l.done(discard);
  }
}

/** The reason a StopImport carries, wherever the COPY pipeline wrapped it. */
function findStop(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof StopImport) return current.reason;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return undefined;
}

function tooManyBadRows(file: string, bad: BadRowLog, limit: number, rows: number): ClicklogError {
  const shown = bad.first
    .slice(0, 5)
    .map((r) => `  ${r.file}:${r.line}: ${r.reason}`)
    .join('\n');
  const where = bad.written === undefined ? '' : `\nAll bad rows: ${bad.written}`;
  return new ClicklogError(
    ClicklogErrorCode.IMPORT_TOO_MANY_BAD_ROWS,
    `Import of ${file} rolled back, nothing was written: ${bad.count} bad rows of ${rows} read (allowed: ${limit}; set maxBadRows / --max-bad-rows). First ones:\n${shown}${where}`,
  );
}
