import { RAW_COLUMNS, type RawImpression } from '@fallback-ctr/model';
import type { TrainingBatch } from './training-row.js';

/** Position of each output column of the reader's SELECT (all selected as text). */
export const ROW_FIELD = {
  ID: 0,
  SERVED_MS: 1,
  COLUMNS: 2,
  CONTEXT: 2 + RAW_COLUMNS.length,
  LABEL: 3 + RAW_COLUMNS.length,
  TRUE_CTR: 4 + RAW_COLUMNS.length,
} as const;

type Context = RawImpression['context'];

function parseContext(text: string | null | undefined): Context | undefined {
  if (text === null || text === undefined) return undefined;
  return text === '{}' ? {} : (JSON.parse(text) as Context);
}

/**
 * Fills a TrainingBatch from rows of decoded text fields (null = SQL NULL) in the reader's column
 * order. `take()` hands the batch over and starts a fresh one, so a consumer may keep what it got.
 */
export class TrainingBatchBuilder {
  private ids: string[] = [];
  private servedAtMs: number[] = [];
  private labels: number[] = [];
  private trueCtr: number[] = [];
  private columns: (string | null)[][] = RAW_COLUMNS.map(() => []);
  private contexts: (Context | undefined)[] = [];

  constructor(private readonly withTrueCtr: boolean) {}

  get length(): number {
    return this.ids.length;
  }

  add(fields: readonly (string | null | undefined)[]): void {
    this.ids.push(fields[ROW_FIELD.ID] as string);
    this.servedAtMs.push(Math.round(Number(fields[ROW_FIELD.SERVED_MS])));
    const columns = this.columns;
    for (let c = 0; c < columns.length; c++)
      (columns[c] as (string | null)[]).push(fields[ROW_FIELD.COLUMNS + c] ?? null);
    this.contexts.push(parseContext(fields[ROW_FIELD.CONTEXT]));
    this.labels.push(fields[ROW_FIELD.LABEL] === 'true' ? 1 : 0);
    if (this.withTrueCtr) {
      const t = fields[ROW_FIELD.TRUE_CTR];
      this.trueCtr.push(t === null || t === undefined ? Number.NaN : Number(t));
    }
  }

  take(): TrainingBatch {
    const batch: TrainingBatch = {
      length: this.ids.length,
      ids: this.ids,
      servedAtMs: Float64Array.from(this.servedAtMs),
      labels: Uint8Array.from(this.labels),
      columns: this.columns,
      contexts: this.contexts,
      ...(this.withTrueCtr ? { trueCtr: Float64Array.from(this.trueCtr) } : {}),
    };
    this.ids = [];
    this.servedAtMs = [];
    this.labels = [];
    this.trueCtr = [];
    this.columns = RAW_COLUMNS.map(() => []);
    this.contexts = [];
    return batch;
  }
}
