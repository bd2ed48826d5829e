import { setImmediate as nextTurn } from 'node:timers/promises';

export interface BackgroundLogOptions<T> {
  /** Writes in flight at most (two by default: MLflow on SQLite serialises writes anyway). */
  concurrency?: number;
  /**
   * Folds the items queued while the writes in flight were busy into one write (e.g. metric points into
   * one logBatch), so a producer faster than the server costs one round trip per write, not per item.
   */
  merge?: (items: T[]) => T;
}

/**
 * Writes that must all land but need not hold up the CPU-bound work producing them (the search's trials
 * as nested MLflow runs: three round trips each, which took about half of a demo-size search's wall time
 * when awaited one by one; the refit's progress points, one logBatch per ~12k rows). `add` starts a
 * write, at most `concurrency` at a time, and returns after one turn of the event loop, so writes in
 * flight progress between two pieces of work; `settle` waits for all of them and throws the first failure.
 */
export class BackgroundLog<T> {
  private readonly queue: T[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  private readonly merge: ((items: T[]) => T) | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly write: (item: T) => Promise<void>,
    options: number | BackgroundLogOptions<T> = {},
  ) {
    const o = typeof options === 'number' ? { concurrency: options } : options;
    this.concurrency = o.concurrency ?? 2;
    this.merge = o.merge;
  }

  async add(item: T): Promise<void> {
    this.queue.push(item);
    this.pump();
    await nextTurn();
  }

  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.error;
  }

  private next(): T {
    if (this.merge === undefined || this.queue.length === 1) return this.queue.shift() as T;
    return this.merge(this.queue.splice(0));
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency && this.queue.length > 0) {
      const write: Promise<void> = this.write(this.next())
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          this.inFlight.delete(write);
          this.pump();
        });
      this.inFlight.add(write);
    }
  }
}
