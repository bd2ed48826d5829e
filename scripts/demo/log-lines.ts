import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';

/** Keys every pino line has, or that the line's prefix already shows. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v', 'role', 'worker']);
/** Context a source repeats on every line: shown when it first appears or changes. */
const CONTEXT = new Set(['runId', 'modelName', 'model', 'schema', 'seed']);
const MAX_VALUE = 48;

const LEVEL_COLOR: Record<string, string> = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[31m' };
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

function shortValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE - 1)}…` : value;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return shortValue(value.join('; '));
    return undefined;
  }
  return undefined;
}

/** `key=value` pairs of a parsed line: scalars, short lists, one level into small objects, err as its message. */
function fields(entry: Record<string, unknown>, context: Map<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (HIDDEN.has(key)) continue;
    if (CONTEXT.has(key)) {
      if (context.get(key) === value) continue;
      context.set(key, value);
    }
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: unknown; code?: unknown };
      if (typeof err.code === 'string') out.push(`code=${err.code}`);
      if (typeof err.message === 'string') out.push(`error="${err.message.split('\n')[0]}"`);
      continue;
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const inner = Object.entries(value as Record<string, unknown>);
      if (inner.length > 6) continue;
      for (const [k, v] of inner) {
        const shown = shortValue(v);
        if (shown !== undefined) out.push(`${key}.${k}=${shown}`);
      }
      continue;
    }
    const shown = shortValue(value);
    if (shown !== undefined) out.push(`${key}=${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
  }
  return out;
}

/**
 * One readable line for a pino JSON line: `HH:MM:SS source  message  key=value …`, cut to `width`
 * characters (the JSON line itself is kept in the demo's log file). Lines that are not JSON pass through.
 * `context` remembers a source's run id, model name and the like, so they are shown once, not on every line.
 */
export function formatLogLine(
  line: string,
  options: { width: number; color: boolean; context?: Map<string, unknown> },
): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const worker = typeof entry.worker === 'number' ? `/w${entry.worker}` : '';
  const source = `${String(entry.name ?? '')}${worker}`.padEnd(12);
  const level = String(entry.level ?? 'info');
  const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
  const text = [`${tag}${String(entry.msg ?? '')}`, ...fields(entry, options.context ?? new Map())].join('  ');
  const budget = Math.max(20, options.width - time.length - source.length - 2);
  const cut = text.length > budget ? `${text.slice(0, budget - 1)}…` : text;
  if (!options.color) return `${time} ${source} ${cut}`;
  const colour = LEVEL_COLOR[level] ?? '';
  return `${DIM}${time} ${source}${RESET} ${colour}${cut}${colour ? RESET : ''}`;
}

export type LogFormat = 'pretty' | 'json';

export interface LogSink {
  /** A stream for one source (the demo itself, or one child's stdout or stderr): lines never interleave. */
  stream(): Writable;
  close(): Promise<void>;
}

/**
 * Where the demo's and its children's log lines go: as they are (JSON) or as readable lines; in the
 * readable form every JSON line is also appended to `jsonFile`.
 */
export function createLogSink(options: { format: LogFormat; out: NodeJS.WriteStream; jsonFile: string }): LogSink {
  const json = options.format === 'pretty' ? createWriteStream(options.jsonFile, { flags: 'a' }) : undefined;
  const emit = (line: string, context: Map<string, unknown>) => {
    if (line.length === 0) return;
    if (!json) {
      options.out.write(`${line}\n`);
      return;
    }
    if (line.startsWith('{')) json.write(`${line}\n`);
    const width = options.out.columns ?? 160;
    options.out.write(`${formatLogLine(line, { width, color: options.out.isTTY === true, context })}\n`);
  };
  return {
    stream() {
      let pending = '';
      const context = new Map<string, unknown>();
      return new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          pending += chunk.toString();
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) emit(line, context);
          done();
        },
        final(done) {
          emit(pending, context);
          pending = '';
          done();
        },
      });
    },
    close: () => new Promise<void>((resolve) => (json ? json.end(resolve) : resolve())),
  };
}
