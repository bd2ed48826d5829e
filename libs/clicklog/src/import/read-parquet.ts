import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { SourceBatch, SourceRecord } from './source-records.js';

/**
 * hyparquet decodes a row group's column chunks whole for any slice of it, so a slice per call
 * re-decodes the group: read groups up to this size in one call (memory: one group's rows as
 * objects) and only cut larger groups.
 */
const SLICE_ROWS = 100_000;
/** Rows per batch handed to the consumer. */
const BATCH_ROWS = 500;

/**
 * Streams a Parquet file in slices of rows (hyparquet, pure JavaScript: no native binary to ship),
 * each row an array in the order of `columns` (no object per row). `line` is the 1-based row number.
 */
export async function* readParquet(file: string): AsyncGenerator<SourceBatch> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const total = Number(metadata.num_rows);
  let start = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = start + Number(group.num_rows);
    for (let from = start; from < groupEnd; from += SLICE_ROWS) {
      const to = Math.min(groupEnd, from + SLICE_ROWS);
      let rows: unknown[][] = [];
      await parquetRead({
        file: buffer,
        metadata,
        columns,
        rowStart: from,
        rowEnd: to,
        rowFormat: 'array',
        compressors,
        onComplete: (data: unknown[][]) => {
          rows = data;
        },
      });
      // Handed on in small batches: each batch's records and COPY text die young while the
      // decoded group (long-lived anyway) is consumed.
      for (let at = 0; at < rows.length; at += BATCH_ROWS) {
        const end = Math.min(rows.length, at + BATCH_ROWS);
        const records: SourceRecord[] = [];
        for (let i = at; i < end; i++) records.push({ line: from + i + 1, values: rows[i] as unknown[] });
        yield { records, progress: total > 0 ? (from + end) / total : 1, columns };
      }
    }
    start = groupEnd;
  }
}
