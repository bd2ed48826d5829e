/**
 * Pulls COPY text batches (UTF-8 bytes) from `source` ahead of the consumer, up to `limitBytes` queued, so the file is
 * parsed while the database is busy with something else (a merge) and not only while it takes COPY
 * data. Memory stays bounded by the limit plus one batch. `next()` hands out batches in order, then
 * `undefined` at the end, and rethrows the source's error where it was in the order. `stop()` ends
 * the source early (its `finally` blocks run) and swallows what it throws afterwards.
 */
export class ReadAhead {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private stopped = false;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;
  private readonly pumping: Promise<void>;

  constructor(
    private readonly source: AsyncGenerator<Buffer>,
    private readonly limitBytes: number,
  ) {
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.queuedBytes >= this.limitBytes) {
          await new Promise<void>((resolve) => {
            this.wakeProducer = resolve;
          });
          continue;
        }
        const item = await this.source.next();
        if (item.done) break;
        this.queue.push(item.value);
        this.queuedBytes += item.value.length;
        this.signalConsumer();
      }
    } catch (error) {
      if (!this.stopped) this.failure = { error };
    } finally {
      this.ended = true;
      this.signalConsumer();
    }
  }

  private signalConsumer(): void {
    this.wakeConsumer?.();
    this.wakeConsumer = undefined;
  }

  async next(): Promise<Buffer | undefined> {
    while (true) {
      const text = this.queue.shift();
      if (text !== undefined) {
        this.queuedBytes -= text.length;
        this.wakeProducer?.();
        this.wakeProducer = undefined;
        return text;
      }
      if (this.failure !== undefined) throw this.failure.error;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    this.wakeProducer?.();
    await this.pumping;
    await this.source.return(undefined).catch(() => undefined);
  }
}

/** `first`, then the next batches of `ahead` until at least `bytes` bytes (or the end). */
export async function* segment(ahead: ReadAhead, first: Buffer, bytes: number): AsyncGenerator<Buffer> {
  let handed = first.length;
  yield first;
  while (handed < bytes) {
    const text = await ahead.next();
    if (text === undefined) return;
    handed += text.length;
    yield text;
  }
}
