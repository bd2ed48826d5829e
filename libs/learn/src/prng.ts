/**
 * A small seeded PRNG (SplitMix32 variant of Mulberry32): deterministic across platforms, returns
 * uniforms in [0, 1). Used for negative down-sampling so training is reproducible from a seed.
 */
export function createPrng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
