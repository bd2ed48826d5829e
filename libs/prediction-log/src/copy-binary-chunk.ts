/**
 * Rows of the predictions table in PostgreSQL's binary COPY format, packed into one buffer as they are
 * recorded: no string and no object per row, no number or date formatting (the score is its 8 IEEE-754
 * bytes, the time its 8-byte microseconds since 2000), so a logged row costs the request a few stores.
 * Text COPY lines cost a number-to-text conversion, an escape test and a concatenation per row, and
 * their strings live until the batch is written (on the request path at batch 100 they were most of
 * the log's CPU).
 *
 * Layout (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"): an 11-byte
 * signature, int32 flags, int32 header-extension length; per row an int16 field count and per field an
 * int32 byte length and the bytes; an int16 -1 trailer. All integers big-endian. The field types must
 * be the columns' (text ×4, float8, timestamptz with integer datetimes, PostgreSQL's only kind since 10):
 * a migration that changes a column's type must change this encoder too.
 */

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const HEADER_BYTES = SIGNATURE.length + 8;
const TRAILER_BYTES = 2;
const FIELDS = 6;
/** Field count, the id's length word, and the score and time fields (length word + 8 bytes each). */
const FIXED_ROW_BYTES = 2 + 4 + 12 + 12;
/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;

const utf8 = new TextEncoder();

/**
 * The name, version and role fields of a row (each an int32 length and UTF-8 bytes), encoded once per
 * model and copied into every row of it.
 */
export function encodeModelFields(name: string, version: string, role: string): Uint8Array {
  const parts = [name, version, role].map((text) => utf8.encode(text));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setInt32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** A timestamptz field's int64 (microseconds since 2000-01-01 UTC) as its two big-endian halves. */
export interface PgTimestamp {
  high: number;
  low: number;
}

export function pgTimestamp(unixMs: number): PgTimestamp {
  const micros = Math.round((unixMs - PG_EPOCH_MS) * 1000);
  const high = Math.floor(micros / TWO_32);
  return { high, low: micros - high * TWO_32 };
}

/** The most bytes a row can take: UTF-8 needs at most 3 bytes per UTF-16 unit of the id. */
export function maxRowBytes(idLength: number, modelFields: Uint8Array): number {
  return FIXED_ROW_BYTES + idLength * 3 + modelFields.length;
}

/** Bytes a chunk needs to hold `rowBytes` of rows besides its header and trailer. */
export const chunkBytesFor = (rowBytes: number) => HEADER_BYTES + rowBytes + TRAILER_BYTES;

/** One COPY's worth of rows: filled by `append`, written whole by `seal`, reused after `reset`. */
export class CopyBinaryChunk {
  readonly capacity: number;
  rows = 0;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private at = HEADER_BYTES;
  constructor(capacity: number) {
    this.capacity = capacity;
    this.bytes = Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, capacity);
    this.bytes.set(SIGNATURE, 0);
    this.view.setInt32(SIGNATURE.length, 0);
    this.view.setInt32(SIGNATURE.length + 4, 0);
  }

  /** Whether a row of at most `rowBytes` still fits before the trailer. */
  fits(rowBytes: number): boolean {
    return this.at + rowBytes + TRAILER_BYTES <= this.capacity;
  }

  /** Appends one row; the caller checked `fits(maxRowBytes(id.length, modelFields))`. */
  append(id: string, modelFields: Uint8Array, score: number, time: PgTimestamp): void {
    const { bytes, view } = this;
    let at = this.at;
    view.setInt16(at, FIELDS);
    const idStart = at + 6;
    let end = idStart;
    const n = id.length;
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) {
        end = idStart + bytes.write(id, idStart, 'utf8');
        break;
      }
      bytes[end++] = c;
    }
    view.setInt32(at + 2, end - idStart);
    bytes.set(modelFields, end);
    at = end + modelFields.length;
    view.setInt32(at, 8);
    view.setFloat64(at + 4, score);
    view.setInt32(at + 12, 8);
    view.setInt32(at + 16, time.high);
    view.setUint32(at + 20, time.low);
    this.at = at + 24;
    this.rows++;
  }

  /** The whole COPY payload (header, rows, trailer); valid until `reset`. */
  seal(): Buffer {
    this.view.setInt16(this.at, -1);
    return this.bytes.subarray(0, this.at + TRAILER_BYTES);
  }

  reset(): void {
    this.at = HEADER_BYTES;
    this.rows = 0;
  }
}
