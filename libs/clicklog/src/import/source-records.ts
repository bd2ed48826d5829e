/** One row of a source file: where it is (for reports) and its values. */
export interface SourceRecord {
  /** 1-based line of the file where the row starts (CSV: the header is line 1); Parquet: the row number. */
  line: number;
  /**
   * Values by column name (JSONL), or in the order of the batch's `columns` (CSV, Parquet): a header
   * names each position once, so no object is built per row.
   */
  values: Record<string, unknown> | readonly unknown[];
  /** Set when the reader could not make the row whole (e.g. a CSV row with the wrong number of fields). */
  error?: string;
}

export interface SourceBatch {
  records: SourceRecord[];
  /** Share of the file read so far, 0..1 (bytes for text files, rows for Parquet). */
  progress: number;
  /** Column names, when the format declares them up front (CSV header, Parquet schema). */
  columns?: readonly string[];
}
