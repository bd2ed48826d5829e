/** An append-only Float64Array that doubles its capacity as it fills. */
export class GrowableFloat64 {
  private data = new Float64Array(1024);
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(v: number): void {
    if (this.n === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }

  /** A view of the values pushed so far (shares memory). */
  view(): Float64Array {
    return this.data.subarray(0, this.n);
  }
}
