import type { Writable } from 'node:stream';
import type { MlflowClient } from '@fallback-ctr/mlflow';
import type { Env, Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AnalyzeSettings } from '../analyze/index.js';
import type { TrainerConfig } from '../config.js';
import type { MonitorSettings } from '../monitor/monitor-env.js';

/** Exit codes of the CLI (documented in the README). */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  /** The rollout failed; champion and Deployment were moved back. */
  ROLLOUT_FAILED: 3,
  /** `monitor`: the guard fired (the champion's live calibration is out of its band). */
  GUARD_ALARM: 4,
  /** Stopped by SIGTERM/SIGINT. */
  INTERRUPTED: 143,
} as const;

export interface CliIo {
  env: Env;
  stdout: Writable;
  stderr: Writable;
  /** Where log lines go (default: the command's `logTo`). */
  logDestination?: Writable;
  /** Default: KUBECONFIG / ~/.kube/config / in-cluster service account. */
  kubeConfig: () => KubeConfig;
  /** Install SIGTERM/SIGINT handlers (the real binary does; in-process tests pass a signal instead). */
  installSignals: boolean;
  signal?: AbortSignal;
}

/** Bad command-line input: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

/**
 * One option of a command: its help line and how its value is read. `value` is the placeholder of
 * the option's argument in help (`N`, `DIR`); an option without one is a boolean flag.
 */
export interface OptionSpec<T> {
  value?: string;
  short?: string;
  description: string;
  /** The option's value from what was given (undefined when absent); throws a UsageError when it is wrong. */
  read(given: string | boolean | undefined, flag: string): T;
}

// biome-ignore lint/suspicious/noExplicitAny: any option type; each command's own table keeps its types
export type Options = Record<string, OptionSpec<any>>;
export type OptionValues<O extends Options> = { [K in keyof O]: ReturnType<O[K]['read']> };

/** What every command gets: configuration, logger, MLflow client, the stop signal and the streams. */
export interface CommandContext {
  config: TrainerConfig;
  analyze: AnalyzeSettings;
  monitor: MonitorSettings;
  logger: Logger;
  /** Not tied to the stop signal: after SIGTERM a run must still be able to mark itself FAILED. */
  mlflow: MlflowClient;
  /** Aborted by SIGTERM/SIGINT (or the caller's signal). */
  signal: AbortSignal;
  io: CliIo;
}

/** A command, declared once: help, parsing, the README table and the dispatch all read this. */
export interface Command<O extends Options = Options> {
  name: string;
  /** One line for the program's help. */
  summary: string;
  /** The command's help text (and its README row). */
  description: string;
  options: O;
  /** Where log lines go: stderr for commands whose result is printed on stdout. */
  logTo: 'stdout' | 'stderr';
  /** The command runs without DATABASE_URL (it reads only MLflow, and uses the database when it is there). */
  databaseOptional?: boolean;
  /**
   * Exit codes other than ERROR for failures with these error codes. A failure mapped to USAGE (a
   * wrong argument, such as a version that does not exist) is one plain line on stderr, not a log line.
   */
  exitCodes?: Readonly<Record<string, number>>;
  /** Exit code when SIGTERM/SIGINT ends the command cleanly (default INTERRUPTED). */
  exitWhenStopped?: number;
  run(ctx: CommandContext, options: OptionValues<O>): Promise<number>;
}

export const defineCommand = <O extends Options>(command: Command<O>): Command<O> => command;

export function flagOption(description: string, short?: string): OptionSpec<boolean> {
  return { description, ...(short ? { short } : {}), read: (given) => given === true };
}

/**
 * An option that takes a value: `parse` turns the text into the value, or undefined when it is not
 * `expected`, which the UsageError then says ("--x must be <expected>, got "…"").
 */
function valueOption<T>(
  value: string,
  description: string,
  expected: string,
  parse: (given: string) => T | undefined,
): OptionSpec<T | undefined> {
  return {
    value,
    description,
    read(given, flag) {
      if (typeof given !== 'string') return undefined;
      const parsed = parse(given);
      if (parsed === undefined) throw new UsageError(`${flag} must be ${expected}, got "${given}"`);
      return parsed;
    },
  };
}

export function textOption(
  value: string,
  description: string,
  check?: { pattern: RegExp; expected: string },
): OptionSpec<string | undefined> {
  return valueOption(value, description, check?.expected ?? 'text', (given) =>
    !check || check.pattern.test(given) ? given : undefined,
  );
}

export function integerOption(
  value: string,
  description: string,
  range: { min?: number; max?: number } = {},
): OptionSpec<number | undefined> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  const expected = range.min === undefined && range.max === undefined ? 'an integer' : `an integer in [${min}, ${max}]`;
  return valueOption(value, description, expected, (given) => {
    const n = Number(given);
    return /^-?[0-9]+$/.test(given) && n >= min && n <= max ? n : undefined;
  });
}

export function numberOption(
  value: string,
  description: string,
  range: { min: number; max: number },
): OptionSpec<number | undefined> {
  return valueOption(value, description, `a number in [${range.min}, ${range.max}]`, (given) => {
    const x = Number(given);
    return given.trim() !== '' && Number.isFinite(x) && x >= range.min && x <= range.max ? x : undefined;
  });
}

export function writeLine(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
