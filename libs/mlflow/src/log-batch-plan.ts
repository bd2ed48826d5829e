import { MlflowError, MlflowErrorCode } from './errors.js';

/** Limits of `runs/log-batch`, from mlflow/utils/validation.py of the pinned server (3.17). */
export const LOG_BATCH_LIMITS = {
  metrics: 1000,
  params: 100,
  tags: 100,
  entities: 1000,
  /** MAX_BATCH_LOG_REQUEST_SIZE is 1e6; a margin keeps each request clearly below it. */
  bodyBytes: 950_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

export interface MetricInput {
  key: string;
  value: number;
  /** ms since the epoch; defaults to now. */
  timestamp?: number;
  /** Defaults to 0. */
  step?: number;
}

export type ParamValue = string | number | boolean;
export type KeyValues = Record<string, ParamValue> | readonly { key: string; value: ParamValue }[];

export interface LogBatchInput {
  metrics?: readonly MetricInput[];
  params?: KeyValues;
  tags?: KeyValues;
}

interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
interface WireKeyValue {
  key: string;
  value: string;
}

export interface LogBatchChunk {
  metrics: WireMetric[];
  params: WireKeyValue[];
  tags: WireKeyValue[];
}

// Server-side rule (validate_param_and_metric_name on POSIX): slashes, word characters, . - space and colon.
const NAME_PATTERN = /^[/\w.\- :]*$/u;

/** Python's len(): code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function normpathChanges(name: string): boolean {
  const segments = name.split('/');
  const absolute = name.startsWith('/');
  const out: string[] = [];
  for (const s of segments) {
    if (s === '' || s === '.') continue;
    if (s === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (s === '..' && absolute) continue;
    else out.push(s);
  }
  const norm = (absolute ? '/' : '') + out.join('/') || '.';
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

export function validateKey(kind: string, key: string): void {
  if (typeof key !== 'string' || key === '') {
    throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, `${kind} key must be a non-empty string`);
  }
  if (codePoints(key) > LOG_BATCH_LIMITS.keyLength) {
    throw new MlflowError(
      MlflowErrorCode.VALUE_TOO_LONG,
      `${kind} key "${key.slice(0, 40)}…" has ${codePoints(key)} characters; MLflow allows at most ${LOG_BATCH_LIMITS.keyLength}`,
    );
  }
  if (!NAME_PATTERN.test(key)) {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `${kind} key "${key}" has characters MLflow rejects: use letters, digits, _ - . space : and /`,
    );
  }
  if (normpathChanges(key)) {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `${kind} key "${key}" is not a normalised path (no leading or doubled "/", no "." or ".." segments)`,
    );
  }
}

function checkValue(kind: string, key: string, value: string, limit: number): void {
  const length = codePoints(value);
  if (length > limit) {
    throw new MlflowError(
      MlflowErrorCode.VALUE_TOO_LONG,
      `${kind} "${key}" has a value of ${length} characters; MLflow allows at most ${limit} (it would silently truncate it). Shorten it or log it as an artifact.`,
    );
  }
}

function toEntries(values: KeyValues | undefined): WireKeyValue[] {
  if (!values) return [];
  const list = Array.isArray(values)
    ? (values as readonly { key: string; value: ParamValue }[])
    : Object.entries(values as Record<string, ParamValue>).map(([key, value]) => ({ key, value }));
  return list.map(({ key, value }) => ({ key, value: String(value) }));
}

function wireValue(value: number): number | string {
  if (Number.isFinite(value)) return value;
  // protobuf's JSON form of non-finite doubles
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Validates everything up front (nothing is sent when any entry is bad) and splits the entries
 * into requests within the server's per-request limits: counts, entities in all and body size.
 */
export function planLogBatch(input: LogBatchInput, now: number = Date.now()): LogBatchChunk[] {
  const metrics: WireMetric[] = (input.metrics ?? []).map((m) => {
    validateKey('metric', m.key);
    if (typeof m.value !== 'number') {
      throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, `metric "${m.key}" must have a number value`);
    }
    const timestamp = m.timestamp ?? now;
    const step = m.step ?? 0;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0 || !Number.isSafeInteger(step)) {
      throw new MlflowError(
        MlflowErrorCode.INVALID_ARGUMENT,
        `metric "${m.key}" needs an integer timestamp >= 0 (ms) and an integer step`,
      );
    }
    return { key: m.key, value: wireValue(m.value), timestamp, step };
  });
  const params = toEntries(input.params);
  const seen = new Map<string, string>();
  for (const p of params) {
    validateKey('param', p.key);
    checkValue('param', p.key, p.value, LOG_BATCH_LIMITS.paramValueLength);
    const before = seen.get(p.key);
    if (before !== undefined && before !== p.value) {
      throw new MlflowError(
        MlflowErrorCode.INVALID_ARGUMENT,
        `param "${p.key}" is given twice with different values; MLflow params cannot change once logged`,
      );
    }
    seen.set(p.key, p.value);
  }
  const tags = toEntries(input.tags);
  for (const t of tags) {
    validateKey('tag', t.key);
    checkValue('tag', t.key, t.value, LOG_BATCH_LIMITS.tagValueLength);
  }

  // Each request takes up to 100 params and 100 tags, then fills up with metrics, within the
  // entity and body-size limits: 2,500 metrics + 250 params + 250 tags go in 3 requests.
  const chunks: LogBatchChunk[] = [];
  const queues = { params, tags, metrics } as const;
  const next = { params: 0, tags: 0, metrics: 0 };
  // run_id (≤ 256 characters) and the JSON skeleton
  const overhead = 400;
  const sizeOf = (entry: WireMetric | WireKeyValue) => Buffer.byteLength(JSON.stringify(entry)) + 1;
  while (next.params < params.length || next.tags < tags.length || next.metrics < metrics.length) {
    const chunk: LogBatchChunk = { metrics: [], params: [], tags: [] };
    let bytes = overhead;
    let count = 0;
    for (const kind of ['params', 'tags', 'metrics'] as const) {
      const queue = queues[kind] as readonly (WireMetric | WireKeyValue)[];
      const target = chunk[kind] as (WireMetric | WireKeyValue)[];
      while (next[kind] < queue.length && target.length < LOG_BATCH_LIMITS[kind] && count < LOG_BATCH_LIMITS.entities) {
        const entry = queue[next[kind]] as WireMetric | WireKeyValue;
        const size = sizeOf(entry);
        if (bytes + size > LOG_BATCH_LIMITS.bodyBytes && count > 0) break;
        target.push(entry);
        bytes += size;
        count++;
        next[kind]++;
      }
    }
    chunks.push(chunk);
  }
  return chunks;
}
