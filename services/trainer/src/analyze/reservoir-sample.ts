import { createPrng } from '@fallback-ctr/learn';

/**
 * A uniform sample of at most `capacity` items from a stream of unknown length (Algorithm R),
 * deterministic for a seed. `items()` returns the kept items in stream order, so a time-ordered
 * stream gives a time-ordered sample.
 */
export class ReservoirSample<T> {
  private readonly capacity: number;
  private readonly rand: () => number;
  private readonly kept: T[] = [];
  private readonly positions: number[] = [];
  private seen = 0;

  constructor(capacity: number, seed: number) {
    this.capacity = capacity;
    this.rand = createPrng(seed);
  }

  /** Items offered so far. */
  get offered(): number {
    return this.seen;
  }

  offer(item: T): void {
    const i = this.seen++;
    if (i < this.capacity) {
      this.kept.push(item);
      this.positions.push(i);
      return;
    }
    const j = Math.floor(this.rand() * (i + 1));
    if (j < this.capacity) {
      this.kept[j] = item;
      this.positions[j] = i;
    }
  }

  items(): T[] {
    const order = this.positions
      .map((_, k) => k)
      .sort((a, b) => (this.positions[a] as number) - (this.positions[b] as number));
    return order.map((k) => this.kept[k] as T);
  }
}
