import { Writable } from 'node:stream';
import { type CreateLoggerOptions, createLogger, type Logger } from '@fallback-ctr/runtime';
import { parseDocument } from 'yaml';

/**
 * Parses one JSON log line, failing on what JSON.parse lets through: a key twice in one object
 * (JSON.parse keeps the last; log collectors may reject the line or keep either). JSON is YAML 1.2,
 * and the yaml package reports duplicate keys with their position.
 */
export function parseJsonLine(line: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(line);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`not a JSON object: ${line.slice(0, 200)}`);
  const doc = parseDocument(line, { uniqueKeys: true });
  const duplicate = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (duplicate) {
    const at = duplicate.pos[0];
    throw new Error(`a key twice in one log line (at ${at}: …${line.slice(Math.max(0, at - 60), at + 40)}…): ${line}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * A logger destination that hands each JSON line written to it, parsed by parseJsonLine (so a
 * key twice fails the test), to `onLine`.
 */
export function jsonLineSink(onLine: (line: Record<string, unknown>) => void): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) onLine(parseJsonLine(line));
      done();
    },
  });
}

/** A pino logger at `level` whose lines, parsed, are collected in `lines`. */
export function capturingLogger(level: CreateLoggerOptions['level'] = 'debug'): {
  logger: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    logger: createLogger({ name: 'test', level, destination: jsonLineSink((line) => lines.push(line)) }),
  };
}
