import type { ImpressionColumns, RawImpression } from '@fallback-ctr/model';

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

/**
 * Labelled rows by column, in served_at order, as the reader decodes them (no object per row):
 * row r is `ids[r]`, served at `servedAtMs[r]` (epoch ms), labelled `labels[r]`, with the impression
 * the featurizer reads from the columns (ImpressionColumns).
 */
export interface TrainingBatch extends ImpressionColumns {
  readonly ids: readonly string[];
  readonly servedAtMs: Float64Array;
  readonly labels: Uint8Array;
  /** Present when `includeTrueCtr` was asked. */
  readonly trueCtr?: Float64Array;
}
