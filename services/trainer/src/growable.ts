/** An append-only typed array that doubles its capacity as it fills. */
class Growable<T extends Float64Array | Uint8Array> {
  private data: T;
  private readonly make: (n: number) => T;
  private n = 0;

  constructor(make: (n: number) => T) {
    this.make = make;
    this.data = make(1024);
  }

  get length(): number {
    return this.n;
  }

  push(v: number): void {
    if (this.n === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }

  /** A view of the values pushed so far (shares memory). */
  view(): T {
    return this.data.subarray(0, this.n) as T;
  }
}

export class GrowableFloat64 extends Growable<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }
}

/** For 0/1 labels: one byte each. */
export class GrowableUint8 extends Growable<Uint8Array> {
  constructor() {
    super((n) => new Uint8Array(n));
  }
}
