import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * COPY lines of clicks set aside in a temporary file while the impressions stream into their own
 * COPY (one connection runs one COPY at a time), to be COPYed after it. Memory stays flat.
 */
export class ClickSpool {
  lines = 0;
  private stream: WriteStream | undefined;
  private failure: Error | undefined;

  private constructor(private readonly dir: string) {}

  static async create(): Promise<ClickSpool> {
    return new ClickSpool(await mkdtemp(join(tmpdir(), 'clicklog-import-clicks-')));
  }

  private get path(): string {
    return join(this.dir, 'clicks.copy');
  }

  async write(text: string, lines: number): Promise<void> {
    if (this.stream === undefined) {
      this.stream = createWriteStream(this.path);
      this.stream.on('error', (error) => {
        this.failure = error;
      });
    }
    if (this.failure) throw this.failure;
    this.lines += lines;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream?.once('drain', resolve));
  }

  /** Ends the file; its lines, or undefined when none were written. */
  async read(): Promise<Readable | undefined> {
    const stream = this.stream;
    if (stream === undefined) return undefined;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    if (this.failure) throw this.failure;
    return createReadStream(this.path);
  }

  async remove(): Promise<void> {
    this.stream?.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}
