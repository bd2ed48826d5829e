import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from './connection.js';
import type { CopyText } from './copy-text-decoder.js';
import { insertLines } from './insert-lines.js';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in COPY text format: \N for null, backslash escapes for the four special characters. */
export function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

const CHUNK_CHARS = 1 << 16;

/** Joins lines into ~64 KiB chunks: far fewer stream writes than one per row. Bytes pass as they are. */
async function* chunked(lines: Iterable<CopyText> | AsyncIterable<CopyText>): AsyncGenerator<CopyText> {
  let buffer = '';
  for await (const line of lines) {
    if (typeof line !== 'string') {
      if (buffer.length > 0) yield buffer;
      buffer = '';
      yield line;
      continue;
    }
    buffer += line;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

const copyCapable = new WeakMap<Queryable, boolean>();

/** PGlite (WebAssembly Postgres behind a socket) loses protocol sync on COPY over the wire. */
export async function acceptsCopyOverWire(client: Queryable): Promise<boolean> {
  let capable = copyCapable.get(client);
  if (capable === undefined) {
    const { rows } = await client.query<{ version: string }>('SELECT version() AS version');
    capable = !/PGlite/i.test(rows[0]?.version ?? '');
    copyCapable.set(client, capable);
  }
  return capable;
}

/**
 * Runs `COPY … FROM STDIN` with the given newline-terminated text lines; resolves to the row count.
 * On a server that cannot take COPY over the wire, the same rows go in as multi-row INSERTs.
 */
export async function copyLines(
  client: Queryable,
  copySql: string,
  lines: Iterable<CopyText> | AsyncIterable<CopyText>,
): Promise<number> {
  if (!(await acceptsCopyOverWire(client))) return insertLines(client, copySql, lines);
  const sink = client.query(copyFrom(copySql));
  await pipeline(Readable.from(chunked(lines)), sink);
  return sink.rowCount ?? 0;
}
