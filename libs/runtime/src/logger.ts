import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log line. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
  '*.headers.authorization',
  'auth',
  '*.auth',
] as const;

export interface CreateLoggerOptions {
  /** Component name, e.g. "trainer" or "inference". */
  name: string;
  level?: LoggerOptions['level'];
  /** Fields on every line (e.g. a model version). */
  base?: Record<string, unknown>;
  /** Where to write; defaults to stdout. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

/**
 * pino JSON logger with secret redaction. Level defaults to LOG_LEVEL from the environment, else
 * "info". Use `logger.child({ runId })` to carry context such as a run id on every line.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const pinoOptions: LoggerOptions = {
    name: options.name,
    level,
    base: { pid: process.pid, ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** A logger that drops everything: a default for libraries whose caller passes none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
