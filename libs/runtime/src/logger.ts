import { type LogFn, type Logger, type LoggerOptions, pino } from 'pino';

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

/** A logger's bound context (its own and its ancestors' child bindings), parsed once per binding string. */
const boundContext = new WeakMap<Logger, { chindings: string; values: Record<string, unknown> }>();

function boundValues(logger: Logger): Record<string, unknown> {
  const chindings = String((logger as unknown as Record<symbol, unknown>)[pino.symbols.chindingsSym] ?? '');
  const cached = boundContext.get(logger);
  if (cached?.chindings === chindings) return cached.values;
  const values = logger.bindings();
  boundContext.set(logger, { chindings, values });
  return values;
}

/**
 * Leaves out of a log call's object the keys the logger already binds with the same value. A
 * helper shared by several callers (one that names the model it moves, say) can say what its line
 * concerns whatever logger it was given, and no line carries a key twice: pino writes bindings and
 * the call's object side by side, and a JSON line with a key twice is one a collector may reject.
 */
function dropBoundKeys(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const [first] = args;
  if (first !== null && typeof first === 'object' && !(first instanceof Error)) {
    const values = boundValues(this);
    const given = first as Record<string, unknown>;
    let kept: Record<string, unknown> | undefined;
    for (const key of Object.keys(given)) {
      if (!(key in values) || JSON.stringify(values[key]) !== JSON.stringify(given[key])) continue;
      kept ??= { ...given };
      delete kept[key];
    }
    if (kept) args[0] = kept;
  }
  method.apply(this, args);
}

/**
 * pino JSON logger with secret redaction. Level defaults to LOG_LEVEL from the environment, else
 * "info". Use `logger.child({ runId })` to carry context such as a run id on every line; a call that
 * names the same key with the same value does not repeat it.
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
    hooks: { logMethod: dropBoundKeys },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** A logger that drops everything: a default for libraries whose caller passes none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
