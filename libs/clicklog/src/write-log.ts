import type { RawImpression } from './raw-impression.js';
import type { ClicklogTarget } from './target.js';

/** One impression as the ad server logs it. */
export interface ImpressionRecord {
  id: string;
  servedAt: Date;
  impression: RawImpression;
}

/** One click as the ad server logs it. */
export interface ClickRecord {
  impressionId: string;
  clickedAt: Date;
}

export interface WriteOptions<T> extends ClicklogTarget {
  rows: Iterable<T> | AsyncIterable<T>;
}

/** Appends impressions with COPY (one transaction). Returns the number written. */
export async function writeImpressions(_options: WriteOptions<ImpressionRecord>): Promise<number> {
  throw new Error('not implemented yet');
}

/** Appends clicks with COPY (one transaction). Returns the number written. */
export async function writeClicks(_options: WriteOptions<ClickRecord>): Promise<number> {
  throw new Error('not implemented yet');
}
