import type { RawImpression } from '../raw-impression.js';
import type { SyntheticTrafficOptionsInput } from './options.js';

/** One generated impression with its truth and (maybe) its click. */
export interface SyntheticImpression {
  id: string;
  servedAt: Date;
  /** 0-based day index from the start. */
  day: number;
  impression: RawImpression;
  /** True click probability (before any degrade). */
  trueCtr: number;
  /** When a click happened, after a random delay; null for no click. */
  clickedAt: Date | null;
}

/** Pure, deterministic generator (no database): the rows generateTraffic writes, in served_at order. */
export function syntheticImpressions(_options: SyntheticTrafficOptionsInput = {}): Generator<SyntheticImpression> {
  throw new Error('not implemented yet');
}
