import { parseArgs } from 'node:util';
import { createMlflowClient } from '@fallback-ctr/mlflow';
import { ConfigError, createLogger, createShutdown, errorCode, errorMessage } from '@fallback-ctr/runtime';
import { loadAnalyzeSettings } from './analyze/index.js';
import {
  type CliIo,
  type Command,
  type CommandContext,
  ExitCode,
  type OptionValues,
  UsageError,
  writeLine,
} from './commands/command.js';
import { commandHelp, programHelp } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import { loadTrainerConfig } from './config.js';
import { defaultKubeConfig } from './deployment-rollout.js';
import { loadMonitorSettings } from './monitor/monitor-env.js';

export { type CliIo, ExitCode } from './commands/command.js';

/** Parses argv and runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], ioInput: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    kubeConfig: defaultKubeConfig,
    installSignals: false,
    ...ioInput,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    writeLine(name === undefined ? io.stderr : io.stdout, programHelp(COMMANDS));
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    writeLine(io.stderr, `unknown command "${name}"\n\n${programHelp(COMMANDS)}`);
    return ExitCode.USAGE;
  }
  let parsed: ParsedArgs;
  try {
    parsed = parseCommandArgs(command, rest);
  } catch (error) {
    writeLine(io.stderr, `${errorMessage(error)}\n\n${commandHelp(command)}`);
    return ExitCode.USAGE;
  }
  if (parsed.help) {
    writeLine(io.stdout, commandHelp(command));
    return ExitCode.OK;
  }
  return runCommand(command, parsed.options, io);
}

interface ParsedArgs {
  help: boolean;
  options: OptionValues<Command['options']>;
}

/** Reads the command's own options (and --help) from argv, each through its spec; throws on anything else. */
function parseCommandArgs(command: Command, args: readonly string[]): ParsedArgs {
  const known = Object.keys(command.options);
  // Options of other commands parse, so the error can say which command takes them.
  type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;
  const parseConfig = (options: Command['options']): ParseOptions =>
    Object.fromEntries(
      Object.entries(options).map(([name, o]) => [
        name,
        { type: o.value ? ('string' as const) : ('boolean' as const), ...(o.short ? { short: o.short } : {}) },
      ]),
    );
  const { values }: { values: Record<string, string | boolean | undefined> } = parseArgs({
    args: [...args],
    options: {
      ...parseConfig(Object.assign({}, ...COMMANDS.map((c) => c.options))),
      ...parseConfig(command.options),
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return { help: true, options: {} };
  const foreign = Object.keys(values).filter((k) => k !== 'help' && !known.includes(k));
  if (foreign.length > 0) throw new UsageError(`${command.name} does not take --${foreign.join(', --')}`);
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, o]) => [name, o.read(values[name], `--${name}`)]),
  );
  return { help: false, options };
}

/** The set-up every command shares (configuration, logger, signals, MLflow), then the command, then its exit code. */
async function runCommand(command: Command, options: ParsedArgs['options'], io: CliIo): Promise<number> {
  let config: CommandContext['config'];
  let analyze: CommandContext['analyze'];
  let monitor: CommandContext['monitor'];
  try {
    config = loadTrainerConfig(io.env, { requireDatabase: command.databaseOptional !== true });
    analyze = loadAnalyzeSettings(io.env);
    monitor = loadMonitorSettings(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      writeLine(io.stderr, error.message);
      return ExitCode.USAGE;
    }
    throw error;
  }
  const logger = createLogger({
    name: 'trainer',
    level: config.logLevel,
    destination: io.logDestination ?? (command.logTo === 'stderr' ? io.stderr : io.stdout),
  });
  const exitWhenStopped = command.exitWhenStopped ?? ExitCode.INTERRUPTED;
  const shutdown = createShutdown({
    logger,
    timeoutMs: 60_000,
    exit: (code) => process.exit(code === 0 ? exitWhenStopped : code),
  });
  const signal = io.signal ? AbortSignal.any([io.signal, shutdown.signal]) : shutdown.signal;
  if (io.installSignals) shutdown.install();
  const mlflow = createMlflowClient({ ...config.mlflow.clientOptions, logger });

  const running = command.run({ config, analyze, monitor, logger, mlflow, signal, io }, options);
  // On SIGTERM the process exits only once the command has ended (a run marks itself FAILED first).
  shutdown.register(command.name, () =>
    running.then(
      () => undefined,
      () => undefined,
    ),
  );
  try {
    return await running;
  } catch (error) {
    if (error instanceof UsageError) {
      writeLine(io.stderr, `${error.message}\n\n${commandHelp(command)}`);
      return ExitCode.USAGE;
    }
    if (error instanceof ConfigError) {
      writeLine(io.stderr, error.message);
      return ExitCode.USAGE;
    }
    if (signal.aborted) {
      logger.warn({ outcome: 'INTERRUPTED', err: error }, `${command.name} interrupted`);
      return ExitCode.INTERRUPTED;
    }
    const code = errorCode(error);
    const exitCode = (typeof code === 'string' ? command.exitCodes?.[code] : undefined) ?? ExitCode.ERROR;
    const message = `${command.name} failed: ${errorMessage(error)}`;
    if (exitCode === ExitCode.USAGE) {
      // A wrong argument: said once, in words, like a bad option; nothing for a log collector to keep.
      writeLine(io.stderr, `${command.name}: ${errorMessage(error)}`);
      return exitCode;
    }
    logger.error({ outcome: 'ERROR', err: error, code }, message);
    // A command that prints its result on stdout says it failed on stderr too, in plain words.
    if (command.logTo === 'stderr') writeLine(io.stderr, message);
    return exitCode;
  } finally {
    shutdown.dispose();
  }
}
