import { RAW_COLUMNS, type RawImpression } from './raw-impression.js';

/**
 * Impressions stored by column, as the click-log reader decodes them: no object per impression.
 * Row r's value of RAW_COLUMNS[c] is `columns[c][r]` (null or undefined: the field is missing), its
 * context `contexts[r]`. The featurizer reads a row of it exactly as it reads `impressionAt(batch, r)`.
 */
export interface ImpressionColumns {
  readonly length: number;
  /** One array per entry of RAW_COLUMNS, in that order, each at least `length` long. */
  readonly columns: readonly (readonly (string | null | undefined)[])[];
  readonly contexts: readonly (RawImpression['context'] | null | undefined)[];
}

/** Row r of a column batch as an impression object (for code that wants one; the featurizer does not). */
export function impressionAt(batch: ImpressionColumns, r: number): RawImpression {
  const impression: RawImpression = {};
  for (let c = 0; c < RAW_COLUMNS.length; c++) {
    const value = batch.columns[c]?.[r];
    if (value !== null && value !== undefined) impression[RAW_COLUMNS[c]!] = value;
  }
  const context = batch.contexts[r];
  if (context !== null && context !== undefined) impression.context = context;
  return impression;
}
