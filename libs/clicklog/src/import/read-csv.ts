import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import Papa from 'papaparse';
import type { SourceBatch, SourceRecord } from './source-records.js';

/**
 * Streams a CSV file (first line: header) in batches, one per chunk Papa Parse hands back; the
 * parser is paused until the consumer asks for the next batch, so memory stays at one chunk.
 * Papa Parse was chosen by measurement (README: import formats): ~5× csv-parse on the same file.
 */
export async function* readCsv(file: string, delimiter: string): AsyncGenerator<SourceBatch> {
  const size = (await stat(file)).size;
  // 64 KiB chunks: a batch (~600 rows here) dies young. With 1 MiB ones a batch's row arrays and
  // COPY text outlived the young generation, were copied by every scavenge, and GC took a third of
  // the import's CPU.
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const input: Readable = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => input.destroy(error));

  const queue: SourceBatch[] = [];
  let header: string[] | undefined;
  let nextLine = 1;
  let finished = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let parser: Papa.Parser | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };

  const onChunk = (results: Papa.ParseResult<string[]>, p: Papa.Parser) => {
    parser = p;
    const rowErrors = new Map<number, string>();
    for (const e of results.errors) if (e.row !== undefined) rowErrors.set(e.row, `${e.code}: ${e.message}`);
    const records: SourceRecord[] = [];
    const rows = results.data;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as string[];
      const line = nextLine;
      for (const field of row) if (field.includes('\n')) nextLine += field.split('\n').length - 1;
      nextLine += 1;
      if (header === undefined) {
        // An unnamed column (e.g. a pandas index) is called _c<position>, as Spark does.
        header = row.map((name, i) => (name.trim() === '' ? `_c${i}` : name));
        continue;
      }
      if (row.length === 1 && row[0] === '') continue; // blank line
      const record: SourceRecord = { line, values: row };
      const parseError = rowErrors.get(r);
      if (parseError !== undefined) record.error = parseError;
      else if (row.length !== header.length) {
        record.error = `${row.length} fields where the header has ${header.length}`;
      }
      records.push(record);
    }
    // Papa Parse's handle pauses the parser but not its input: the file kept arriving into Papa's
    // own queue as strings (peak RSS up to 620 MB for a 115 MB file). The input is paused with the
    // parser and resumed when the next batch is asked for.
    p.pause();
    input.pause();
    queue.push({ records, progress: size > 0 ? raw.bytesRead / size : 1, columns: header });
    signal();
  };

  Papa.parse<string[]>(input as unknown as File, {
    delimiter,
    header: false,
    skipEmptyLines: false,
    chunk: onChunk,
    complete: () => {
      finished = true;
      signal();
    },
    error: (error: Error) => {
      failure = error;
      signal();
    },
  });
  input.on('error', (error) => {
    failure = error;
    signal();
  });

  try {
    while (true) {
      const batch = queue.shift();
      if (batch) {
        yield batch;
        parser?.resume();
        input.resume();
        continue;
      }
      if (failure) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!finished) {
      parser?.abort();
      input.destroy();
      raw.destroy();
    }
  }
}
