import { createWriteStream, type WriteStream } from 'node:fs';

/** A row that could not be imported: where it is and why. */
export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

/** How many bad rows are reported inline (result, CLI); past that they all go to the reject file. */
export const INLINE_BAD_ROWS = 20;

/**
 * Collects bad rows: the first INLINE_BAD_ROWS in memory; from the next one on, every bad row
 * (those first ones included) is written to the reject file as one JSON line, so memory stays flat.
 */
export class BadRowLog {
  readonly first: BadRow[] = [];
  count = 0;
  private stream: WriteStream | undefined;
  private streamError: Error | undefined;

  constructor(readonly rejectFile: string) {}

  async add(row: BadRow): Promise<void> {
    this.count += 1;
    if (this.count <= INLINE_BAD_ROWS) {
      this.first.push(row);
      return;
    }
    if (this.stream === undefined) {
      this.stream = createWriteStream(this.rejectFile);
      this.stream.on('error', (error) => {
        this.streamError = error;
      });
      for (const earlier of this.first) this.stream.write(`${JSON.stringify(earlier)}\n`);
    }
    if (this.streamError) throw this.streamError;
    if (!this.stream.write(`${JSON.stringify(row)}\n`)) {
      await new Promise<void>((resolve) => this.stream?.once('drain', resolve));
    }
  }

  /** The reject file's path when one was written. */
  get written(): string | undefined {
    return this.stream === undefined ? undefined : this.rejectFile;
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (stream === undefined) return;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (this.streamError) throw this.streamError;
  }
}
