import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Writes that must all land but need not hold up the CPU-bound work producing them (the search's trials
 * as nested MLflow runs: three round trips each, which took about half of a demo-size search's wall time
 * when awaited one by one). `add` starts a write, at most `concurrency` at a time (two by default: MLflow
 * on SQLite serialises writes anyway), and returns after one turn of the event loop, so writes in flight
 * progress between two pieces of work; `settle` waits for all of them and throws the first failure.
 */
export class BackgroundLog<T> {
  private readonly queue: T[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly write: (item: T) => Promise<void>,
    private readonly concurrency = 2,
  ) {}

  async add(item: T): Promise<void> {
    this.queue.push(item);
    this.pump();
    await nextTurn();
  }

  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.error;
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency && this.queue.length > 0) {
      const item = this.queue.shift() as T;
      const write: Promise<void> = this.write(item)
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
