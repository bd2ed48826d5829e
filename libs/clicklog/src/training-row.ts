import type { RawImpression } from '@fallback-ctr/model';

/** One labelled training example, as the reader streams it (contract shape). Time-ordered. */
export interface TrainingRow {
  id: string;
  servedAt: Date;
  /** 1 when a click arrived within the attribution window (and before the read's "now"). */
  label: 0 | 1;
  impression: RawImpression;
  /** The generator's true click probability; present only when `includeTrueCtr` was asked. */
  trueCtr?: number;
}

/** A half-open time window [from, to). */
export interface TimeWindow {
  from: Date;
  to: Date;
}
