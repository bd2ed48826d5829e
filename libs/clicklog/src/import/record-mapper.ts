import { RAW_COLUMNS, type RawColumn, type RawImpression, type RawValue } from '@fallback-ctr/model';
import { copyText } from '../copy-text.js';
import { impressionLine } from '../write-log.js';
import type { ImportMapping } from './import-mapping.js';
import type { SourceRecord } from './source-records.js';
import { type TimestampParser, timestampParser } from './timestamp-parser.js';

/** A mapped row: its COPY line for the staging table (impression columns, then clicked_at), or why not. */
export type MappedRecord = { ok: true; line: string; clicked: boolean } | { ok: false; reason: string };

const TRUE_LABELS = new Set(['1', 'true', 't', 'yes', 'y']);
const FALSE_LABELS = new Set(['0', 'false', 'f', 'no', 'n']);

/** 1 for a click, 0 for none, or the reason the value is neither. */
export function parseLabel(value: unknown): 0 | 1 | string {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    return Number.isInteger(n) && n >= 0 ? (n > 0 ? 1 : 0) : `label ${String(value)} is not a click count`;
  }
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (TRUE_LABELS.has(lower)) return 1;
    if (FALSE_LABELS.has(lower)) return 0;
    if (/^\d+$/.test(lower)) return Number(lower) > 0 ? 1 : 0;
  }
  if (value === null || value === undefined || value === '') return 'label is empty';
  return `label ${JSON.stringify(value)} is not 0/1, true/false or yes/no`;
}

/** A fixed column keeps text; numbers and booleans become their text, nested values JSON. */
function asText(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  return String(value);
}

/** A context value keeps its JSON type (CSV values stay text); nested values become JSON text. */
function asContextValue(value: unknown): RawValue | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  return asText(value);
}

export interface RecordMapper {
  map(record: SourceRecord): MappedRecord;
  /** Source columns the mapping names, checked against a header or schema. */
  requiredColumns: readonly string[];
}

/**
 * Compiles the mapping once. The id is the id column's value or `<prefix>:<line>`; the label rule:
 * a flagged row gets one click at the clicked-at column's time, else at served_at + clickDelaySeconds.
 */
export function recordMapper(mapping: ImportMapping, idPrefix: string): RecordMapper {
  const served: TimestampParser = timestampParser(mapping.timestampFormat, mapping.timeZone);
  const fixed = Object.entries(mapping.columns) as [RawColumn, string][];
  const used = new Set<string>([mapping.timestampColumn, ...mapping.ignore, ...fixed.map(([, source]) => source)]);
  if (mapping.idColumn !== undefined) used.add(mapping.idColumn);
  if (mapping.labelColumn !== undefined) used.add(mapping.labelColumn);
  if (mapping.clickedAtColumn !== undefined) used.add(mapping.clickedAtColumn);
  const required = [...used].filter((c) => !mapping.ignore.includes(c));
  const delayMs = mapping.clickDelaySeconds * 1000;

  return {
    requiredColumns: required,
    map(record) {
      if (record.error !== undefined) return { ok: false, reason: record.error };
      const v = record.values;
      let id: string;
      if (mapping.idColumn !== undefined) {
        const text = asText(v[mapping.idColumn]);
        if (text === undefined) return { ok: false, reason: `id column "${mapping.idColumn}" is empty` };
        id = text;
      } else {
        id = `${idPrefix}:${record.line}`;
      }
      const servedAt = served(v[mapping.timestampColumn]);
      if (typeof servedAt === 'string') return { ok: false, reason: `${mapping.timestampColumn}: ${servedAt}` };

      let clickedAt: number | undefined;
      if (mapping.labelColumn !== undefined) {
        const label = parseLabel(v[mapping.labelColumn]);
        if (typeof label === 'string') return { ok: false, reason: `${mapping.labelColumn}: ${label}` };
        if (label === 1) {
          if (mapping.clickedAtColumn !== undefined) {
            const at = served(v[mapping.clickedAtColumn]);
            if (typeof at === 'string') return { ok: false, reason: `${mapping.clickedAtColumn}: ${at}` };
            clickedAt = at;
          } else {
            clickedAt = servedAt + delayMs;
          }
        }
      }

      const impression: RawImpression = {};
      for (const [column, source] of fixed) {
        const text = asText(v[source]);
        if (text !== undefined) impression[column] = text;
      }
      const context: Record<string, RawValue> = {};
      for (const key in v) {
        if (used.has(key)) continue;
        const value = asContextValue(v[key]);
        if (value !== undefined) context[key] = value;
      }
      impression.context = context;
      const base = impressionLine(id, servedAt, impression);
      const click = clickedAt === undefined ? '\\N' : copyText(new Date(clickedAt).toISOString());
      return { ok: true, line: `${base.slice(0, -1)}\t${click}\n`, clicked: clickedAt !== undefined };
    },
  };
}

export const STAGE_COLUMNS = ['id', 'served_at', ...RAW_COLUMNS, 'context', 'clicked_at'] as const;
