interface DrawTable {
  keys: Int32Array;
  rates: Float32Array;
  used: Uint8Array;
  mask: number;
}

export interface RareTokenDrawsState {
  tables: (DrawTable | undefined)[];
  rareRate: number;
  maxShare: number;
}

/**
 * How often each kept value of each field is trained as its field's rare token (training only; the
 * artifact does not carry it).
 *
 * A never-seen value at serving is like a typical *value* of its field, not a typical *impression*:
 * a brand-new ad is one more ad drawn from the population of ads, while impressions are dominated by a
 * few popular ones. Drawing rare-token rows uniformly per impression would let those few decide what the
 * rare token learns. Here a value seen n_v times is drawn with probability
 *   q_v = min(maxShare, rareRate · N / (V · n_v))
 * where V is the number of kept values of the field and N their rows: each kept value gives the rare
 * token about the same number of rows (rareRate · N / V), and the field's rare rows still add up to
 * about rareRate of its kept rows (less where the cap binds). Values outside the vocabulary are the rare
 * token anyway and are not drawn; nor is a missing value, nor a numeric field.
 */
export class RareTokenDraws {
  /** Per field: an open-addressing table (linear probing, load ≤ ½) of value hash → q_v; undefined: never drawn. */
  private readonly tables: (DrawTable | undefined)[];

  /** The draws as plain data (to another thread: structured-cloneable), for RareTokenDraws.fromState. */
  get state(): RareTokenDrawsState {
    return { tables: this.tables, rareRate: this.rareRate, maxShare: this.maxShare };
  }

  static fromState(state: RareTokenDrawsState): RareTokenDraws {
    const draws = new RareTokenDraws([], 0, state.rareRate, state.maxShare);
    draws.tables.push(...state.tables);
    return draws;
  }

  /**
   * @param counts per field, value hash → rows (undefined for a field without a vocabulary)
   * @param minCount k: values with fewer rows are outside the vocabulary
   */
  constructor(
    counts: readonly (ReadonlyMap<number, number> | undefined)[],
    minCount: number,
    readonly rareRate: number,
    readonly maxShare = 0.5,
  ) {
    this.tables = counts.map((m) => {
      if (m === undefined || rareRate <= 0) return undefined;
      let values = 0;
      let rows = 0;
      for (const c of m.values()) {
        if (c < minCount) continue;
        values++;
        rows += c;
      }
      if (values === 0) return undefined;
      const perValue = (rareRate * rows) / values;
      let cap = 8;
      while (cap < values * 2) cap *= 2;
      const keys = new Int32Array(cap);
      const rates = new Float32Array(cap);
      const used = new Uint8Array(cap);
      const mask = cap - 1;
      for (const [h, c] of m) {
        if (c < minCount) continue;
        let i = h & mask;
        while (used[i] === 1) i = (i + 1) & mask;
        keys[i] = h;
        used[i] = 1;
        rates[i] = Math.min(maxShare, perValue / c);
      }
      return { keys, rates, used, mask };
    });
  }

  get fieldCount(): number {
    return this.tables.length;
  }

  /** q_v of value hash `h` (int32) of field `field`; 0 when the value is never drawn. */
  rate(field: number, h: number): number {
    const t = this.tables[field];
    if (t === undefined) return 0;
    let i = h & t.mask;
    while (t.used[i] === 1) {
      if (t.keys[i] === h) return t.rates[i] as number;
      i = (i + 1) & t.mask;
    }
    return 0;
  }
}
