import { murmur3String } from '@fallback-ctr/model';

/** Its own seed: the sample must not correlate with any feature's hash bucket. */
const SAMPLE_SEED = 0x5a3c_e11d;

/**
 * Whether an impression id is in the sample: a hash of the id below rate × 2³², so every pod, every
 * worker and both roles (served and shadow) keep the same impressions, and the shadow challenger
 * can be compared with the champion on exactly the same ones.
 */
export function createSampler(rate: number): (id: string) => boolean {
  if (rate >= 1) return () => true;
  if (rate <= 0) return () => false;
  const threshold = rate * 2 ** 32;
  return (id) => murmur3String(id, SAMPLE_SEED) < threshold;
}
