import { RAW_COLUMNS, type RawColumn, type RawValue } from '@fallback-ctr/model';
import { copyText } from '../copy-text.js';
import { IMPRESSIONS_COPY_COLUMNS } from '../write-log.js';
import type { ImportMapping } from './import-mapping.js';
import type { SourceRecord } from './source-records.js';
import { type TimestampParser, timestampParser } from './timestamp-parser.js';

/**
 * A mapped row, or why not: `columns` is its COPY text of the impression columns
 * (IMPRESSIONS_COPY_COLUMNS, tab-separated, no newline), `clickedAt` set when the row carries a click.
 */
export type MappedRecord =
  | { ok: true; id: string; columns: string; clickedAt: number | undefined }
  | { ok: false; reason: string };

const TRUE_LABELS = new Set(['1', 'true', 't', 'yes', 'y']);
const FALSE_LABELS = new Set(['0', 'false', 'f', 'no', 'n']);

/** 1 for a click, 0 for none, or the reason the value is neither. */
export function parseLabel(value: unknown): 0 | 1 | string {
  if (value === '0') return 0; // the common case first: a CSV flag
  if (value === '1') return 1;
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

/** `"key":value` of one context entry, or '' when the value is empty (it is left out). */
function contextEntry(keyJson: string, value: unknown): string {
  if (typeof value === 'string') return value === '' ? '' : `${keyJson}:${JSON.stringify(value)}`;
  const v = asContextValue(value);
  return v === undefined ? '' : `${keyJson}:${JSON.stringify(v)}`;
}

export interface RecordMapper {
  /**
   * One record as a COPY line. Records whose values are an array are read by position in `columns`
   * (the batch's header), compiled once per header: no object per row.
   */
  map(record: SourceRecord, columns?: readonly string[]): MappedRecord;
  /** Source columns the mapping names, checked against a header or schema. */
  requiredColumns: readonly string[];
}

/** How to read the mapped fields out of one record's values. */
interface Reader {
  get(values: SourceRecord['values'], source: string | undefined): unknown;
  fixed(values: SourceRecord['values'], column: number): unknown;
  /** The context object as JSON text: every column the mapping does not use. */
  context(values: SourceRecord['values']): string;
}

/**
 * Compiles the mapping once. The id is the id column's value or `<prefix>:<line>`; the label rule:
 * a flagged row gets one click at the clicked-at column's time, else at served_at + clickDelaySeconds.
 * The COPY line is built straight from the values (the context JSON included), with no row object.
 */
export function recordMapper(mapping: ImportMapping, idPrefix: string): RecordMapper {
  const served: TimestampParser = timestampParser(mapping.timestampFormat, mapping.timeZone);
  const fixed = Object.entries(mapping.columns) as [RawColumn, string][];
  const fixedSources: (string | undefined)[] = RAW_COLUMNS.map((c) => mapping.columns[c]);
  const used = new Set<string>([mapping.timestampColumn, ...mapping.ignore, ...fixed.map(([, source]) => source)]);
  if (mapping.idColumn !== undefined) used.add(mapping.idColumn);
  if (mapping.labelColumn !== undefined) used.add(mapping.labelColumn);
  if (mapping.clickedAtColumn !== undefined) used.add(mapping.clickedAtColumn);
  const required = [...used].filter((c) => !mapping.ignore.includes(c));
  const delayMs = mapping.clickDelaySeconds * 1000;

  const keyJson = new Map<string, string>();
  const objectReader: Reader = {
    get: (values, source) => (source === undefined ? undefined : (values as Record<string, unknown>)[source]),
    fixed: (values, column) => {
      const source = fixedSources[column];
      return source === undefined ? undefined : (values as Record<string, unknown>)[source];
    },
    context: (values) => {
      let json = '';
      for (const key in values as Record<string, unknown>) {
        if (used.has(key)) continue;
        let k = keyJson.get(key);
        if (k === undefined) {
          k = JSON.stringify(key);
          if (keyJson.size < 10_000) keyJson.set(key, k);
        }
        const entry = contextEntry(k, (values as Record<string, unknown>)[key]);
        if (entry !== '') json = json === '' ? entry : `${json},${entry}`;
      }
      return `{${json}}`;
    },
  };

  let arrayReader: { columns: readonly string[]; reader: Reader } | undefined;
  const readerFor = (columns: readonly string[]): Reader => {
    if (arrayReader?.columns === columns) return arrayReader.reader;
    const position = new Map<string, number>();
    columns.forEach((c, i) => {
      if (!position.has(c)) position.set(c, i);
    });
    const fixedAt = fixedSources.map((s) => (s === undefined ? -1 : (position.get(s) ?? -1)));
    const contextAt: number[] = [];
    const contextKeys: string[] = [];
    columns.forEach((c, i) => {
      if (used.has(c)) return;
      contextAt.push(i);
      contextKeys.push(JSON.stringify(c));
    });
    const reader: Reader = {
      get: (values, source) => {
        const i = source === undefined ? undefined : position.get(source);
        return i === undefined ? undefined : (values as readonly unknown[])[i];
      },
      fixed: (values, column) => {
        const i = fixedAt[column] as number;
        return i < 0 ? undefined : (values as readonly unknown[])[i];
      },
      context: (values) => {
        const cells = values as readonly unknown[];
        let json = '';
        for (let j = 0; j < contextAt.length; j++) {
          const entry = contextEntry(contextKeys[j] as string, cells[contextAt[j] as number]);
          if (entry !== '') json = json === '' ? entry : `${json},${entry}`;
        }
        return `{${json}}`;
      },
    };
    arrayReader = { columns, reader };
    return reader;
  };

  return {
    requiredColumns: required,
    map(record, columns) {
      if (record.error !== undefined) return { ok: false, reason: record.error };
      const v = record.values;
      const read = Array.isArray(v) && columns !== undefined ? readerFor(columns) : objectReader;
      let id: string;
      if (mapping.idColumn !== undefined) {
        const text = asText(read.get(v, mapping.idColumn));
        if (text === undefined) return { ok: false, reason: `id column "${mapping.idColumn}" is empty` };
        id = text;
      } else {
        id = `${idPrefix}:${record.line}`;
      }
      const servedAt = served(read.get(v, mapping.timestampColumn));
      if (typeof servedAt === 'string') return { ok: false, reason: `${mapping.timestampColumn}: ${servedAt}` };

      let clickedAt: number | undefined;
      if (mapping.labelColumn !== undefined) {
        const label = parseLabel(read.get(v, mapping.labelColumn));
        if (typeof label === 'string') return { ok: false, reason: `${mapping.labelColumn}: ${label}` };
        if (label === 1) {
          if (mapping.clickedAtColumn !== undefined) {
            const at = served(read.get(v, mapping.clickedAtColumn));
            if (typeof at === 'string') return { ok: false, reason: `${mapping.clickedAtColumn}: ${at}` };
            clickedAt = at;
          } else {
            clickedAt = servedAt + delayMs;
          }
        }
      }

      let line = `${copyText(id)}\t${new Date(servedAt).toISOString()}`;
      for (let c = 0; c < RAW_COLUMNS.length; c++) line += `\t${copyText(asText(read.fixed(v, c)))}`;
      line += `\t${copyText(read.context(v))}`;
      return { ok: true, id, columns: line, clickedAt };
    },
  };
}

/** The staging table's columns: the impression's, then the click time of a flagged row. */
export const STAGE_COLUMNS = [...IMPRESSIONS_COPY_COLUMNS, 'clicked_at'] as const;
