import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errorMessage } from '@fallback-ctr/runtime';
import type { SourceBatch, SourceRecord } from './source-records.js';

/** Rows per batch, and 64 KiB reads: a batch's objects and COPY text die in the young generation. */
const BATCH_ROWS = 500;

/** Streams a JSON-lines file (one object per line; blank lines skipped) in batches of rows. */
export async function* readJsonl(file: string): AsyncGenerator<SourceBatch> {
  const size = (await stat(file)).size;
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const input: Readable = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => input.destroy(error));
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let records: SourceRecord[] = [];
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      let record: SourceRecord;
      try {
        const parsed: unknown = JSON.parse(text);
        record =
          typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
            ? { line, values: parsed as Record<string, unknown> }
            : { line, values: {}, error: 'not a JSON object' };
      } catch (error) {
        record = { line, values: {}, error: `invalid JSON: ${errorMessage(error)}` };
      }
      records.push(record);
      if (records.length >= BATCH_ROWS) {
        yield { records, progress: size > 0 ? raw.bytesRead / size : 1 };
        records = [];
      }
    }
    if (records.length > 0) yield { records, progress: 1 };
  } finally {
    lines.close();
    raw.destroy();
  }
}
