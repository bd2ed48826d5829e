import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createMlflowClient, type MlflowClient } from '@fallback-ctr/mlflow';
import { ConfigError, createLogger, createShutdown, type Env, type Logger } from '@fallback-ctr/runtime';
import type { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { type AnalyzeSettings, loadAnalyzeSettings, runAnalyzeCommand, runFeatureInsight } from './analyze/index.js';
import { loadTrainerConfig, type TrainerConfig } from './config.js';
import { defaultKubeConfig } from './deployment-rollout.js';
import { TrainerErrorCode } from './errors.js';
import { type AfterPublishContext, type RunOutcome, runTraining } from './pipeline/run-training.js';
import { rollbackChampion } from './rollback.js';
import { startSchedule } from './schedule.js';
import { formatStatus, readStatus } from './status.js';

/** Exit codes of the CLI (documented in the README). */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  /** The rollout failed; champion and Deployment were moved back. */
  ROLLOUT_FAILED: 3,
  /** Stopped by SIGTERM/SIGINT. */
  INTERRUPTED: 143,
} as const;

export interface CliIo {
  env: Env;
  stdout: Writable;
  stderr: Writable;
  /** Where log lines go (default stdout; stderr for `status`). */
  logDestination?: Writable;
  /** Default: KUBECONFIG / ~/.kube/config / in-cluster service account. */
  kubeConfig: () => KubeConfig;
  /** Install SIGTERM/SIGINT handlers (the real binary does; in-process tests pass a signal instead). */
  installSignals: boolean;
  signal?: AbortSignal;
}

const USAGE: Record<string, string> = {
  main: `Usage: fallback-ctr-trainer <command> [options]

Commands:
  run                      one training run (for a Kubernetes CronJob)
  schedule                 long-lived: run on the SCHEDULE cron in SCHEDULE_TIMEZONE
  rollback [--to-version N]  move "champion" back and roll the inference Deployment out
  status [--json]          champion, previous champion, recent versions with gate outcomes
  analyze [options]        feature insight: which fields and crosses earn their keep (see analyze --help)

Every command takes --help. Configuration comes from environment variables (see the README).
Exit codes: 0 ok (also a clean gate FAIL), 1 error, 2 usage or configuration, 3 rollout failed
and was rolled back, 143 interrupted.`,
  run: `Usage: fallback-ctr-trainer run

Trains once: load the window → train → evaluate candidate and champion on the same holdout →
promotion gate → publish to MLflow → (PASS only) move "champion" → roll out.
Exits 0 on PASS and on a clean gate FAIL, and when another run holds the lock; non-zero on
errors. The last log line carries the outcome.`,
  schedule: `Usage: fallback-ctr-trainer schedule [--run-now]

Runs \`run\` on the cron expression SCHEDULE (default "0 3 * * *") in SCHEDULE_TIMEZONE (default UTC).
Never starts a run while one is going; logs the next run time; stops cleanly on SIGTERM.

Options:
  --run-now   also run once at start-up`,
  rollback: `Usage: fallback-ctr-trainer rollback [--to-version N]

Moves the "champion" alias to version N (default: the "previous-champion" alias), gives the
replaced version "previous-champion", and rolls the inference Deployment out (ROLLOUT_MODE).

Options:
  --to-version N   the version to serve`,
  status: `Usage: fallback-ctr-trainer status [--json] [--limit N]

Shows the champion, the previous champion and the most recent versions with their gate
outcomes and holdout metrics.

Options:
  --json       machine-readable output
  --limit N    how many recent versions (default 10)`,
};

function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

interface Context {
  config: TrainerConfig;
  logger: Logger;
  mlflow: MlflowClient;
  signal: AbortSignal;
  analyze: AnalyzeSettings;
}

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
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    write(command === undefined ? io.stderr : io.stdout, USAGE.main!);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (command === 'analyze') {
    return runAnalyzeCommand(rest, {
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      ...(io.logDestination ? { logDestination: io.logDestination } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  }
  if (!(command in USAGE) || command === 'main') {
    write(io.stderr, `unknown command "${command}"\n\n${USAGE.main}`);
    return ExitCode.USAGE;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...rest],
      options: {
        help: { type: 'boolean', short: 'h' },
        'to-version': { type: 'string' },
        json: { type: 'boolean' },
        limit: { type: 'string' },
        'run-now': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    write(io.stderr, `${(error as Error).message}\n\n${USAGE[command]}`);
    return ExitCode.USAGE;
  }
  if (values.help) {
    write(io.stdout, USAGE[command]!);
    return ExitCode.OK;
  }
  const allowed: Record<string, string[]> = {
    run: [],
    schedule: ['run-now'],
    rollback: ['to-version'],
    status: ['json', 'limit'],
  };
  const extra = Object.keys(values).filter((k) => k !== 'help' && !allowed[command]!.includes(k));
  if (extra.length > 0) {
    write(io.stderr, `${command} does not take --${extra.join(', --')}\n\n${USAGE[command]}`);
    return ExitCode.USAGE;
  }
  const toVersion = values['to-version'];
  if (typeof toVersion === 'string' && !/^[1-9][0-9]*$/.test(toVersion)) {
    write(io.stderr, `--to-version must be a version number such as 3, got "${toVersion}"`);
    return ExitCode.USAGE;
  }
  const limit = values.limit === undefined ? 10 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    write(io.stderr, `--limit must be an integer in [1, 1000], got "${String(values.limit)}"`);
    return ExitCode.USAGE;
  }

  let config: TrainerConfig;
  let analyze: AnalyzeSettings;
  try {
    config = loadTrainerConfig(io.env);
    analyze = loadAnalyzeSettings(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      write(io.stderr, error.message);
      return ExitCode.USAGE;
    }
    throw error;
  }
  const logger = createLogger({
    name: 'trainer',
    level: config.logLevel,
    destination: io.logDestination ?? (command === 'status' ? io.stderr : io.stdout),
  });
  const shutdown = createShutdown({
    logger,
    timeoutMs: 60_000,
    exit: (code) => process.exit(code === 0 && command === 'run' ? ExitCode.INTERRUPTED : code),
  });
  const signal = io.signal ? AbortSignal.any([io.signal, shutdown.signal]) : shutdown.signal;
  if (io.installSignals) shutdown.install();
  // Not tied to the shutdown signal: after SIGTERM the run must still be able to mark itself FAILED.
  const mlflow = createMlflowClient({ ...config.mlflow.clientOptions, logger });
  const ctx: Context = { config, logger, mlflow, signal, analyze };

  try {
    switch (command) {
      case 'run':
        return await commandRun(ctx, io, shutdown.register.bind(shutdown));
      case 'schedule':
        return await commandSchedule(ctx, io, shutdown.register.bind(shutdown), values['run-now'] === true);
      case 'rollback': {
        const result = await rollbackChampion(
          { config, mlflow, logger, kubeConfig: io.kubeConfig, signal },
          typeof toVersion === 'string' ? toVersion : undefined,
        );
        logger.info({ outcome: 'ROLLED_BACK', ...result }, `rollback done: champion is version ${result.to}`);
        return ExitCode.OK;
      }
      default: {
        const status = await readStatus(mlflow, config.mlflow.modelName, limit);
        write(io.stdout, values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        return ExitCode.OK;
      }
    }
  } catch (error) {
    if (signal.aborted) {
      logger.warn({ outcome: 'INTERRUPTED', err: error }, `${command} interrupted`);
      return ExitCode.INTERRUPTED;
    }
    const code = (error as { code?: unknown }).code;
    logger.error(
      { outcome: 'ERROR', err: error, code },
      `${command} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return code === TrainerErrorCode.ROLLOUT_FAILED && command === 'run' ? ExitCode.ROLLOUT_FAILED : ExitCode.ERROR;
  } finally {
    shutdown.dispose();
  }
}

type Register = (name: string, closer: () => Promise<void> | void) => void;

function describeOutcome(o: RunOutcome): string {
  switch (o.status) {
    case 'PROMOTED':
      return `outcome PROMOTED: version ${o.version} is champion (replaced ${o.previousChampion ?? 'none'})`;
    case 'REJECTED':
      return `outcome REJECTED: version ${o.version} failed the gate (${o.decision.reasons.join('; ')}); champion stays ${o.champion ?? 'none'}`;
    default:
      return `outcome SKIPPED: ${o.reason}`;
  }
}

async function trainOnce(ctx: Context, io: CliIo, signal: AbortSignal): Promise<RunOutcome> {
  const db = new pg.Pool({
    connectionString: ctx.config.databaseUrl,
    max: 2,
    application_name: 'fallback-ctr-trainer',
  });
  db.on('error', (error) => ctx.logger.error({ err: error }, 'idle Postgres connection failed'));
  try {
    return await runTraining({
      config: ctx.config,
      mlflow: ctx.mlflow,
      db,
      logger: ctx.logger,
      kubeConfig: io.kubeConfig,
      signal,
      ...(ctx.analyze.onRun
        ? {
            afterPublish: async (step: AfterPublishContext) => {
              await runFeatureInsight({
                split: step.split,
                spec: step.featureSpec,
                config: ctx.config,
                options: ctx.analyze.options,
                logger: step.logger,
                mlflow: { client: ctx.mlflow, runId: step.runId },
                ...(step.signal ? { signal: step.signal } : {}),
              });
            },
          }
        : {}),
    });
  } finally {
    await db.end();
  }
}

async function commandRun(ctx: Context, io: CliIo, register: Register): Promise<number> {
  const running = trainOnce(ctx, io, ctx.signal);
  register('training-run', () =>
    running.then(
      () => undefined,
      () => undefined,
    ),
  );
  const outcome = await running;
  const { status } = outcome;
  ctx.logger.info(
    {
      outcome: status,
      ...(status !== 'SKIPPED'
        ? { modelVersion: outcome.version, runId: outcome.runId, gate: outcome.decision.outcome }
        : {}),
    },
    describeOutcome(outcome),
  );
  return ExitCode.OK;
}

async function commandSchedule(ctx: Context, io: CliIo, register: Register, runNow: boolean): Promise<number> {
  const job = async (signal: AbortSignal) => {
    const outcome = await trainOnce(ctx, io, AbortSignal.any([signal, ctx.signal]));
    ctx.logger.info({ outcome: outcome.status }, describeOutcome(outcome));
    return outcome.status;
  };
  const schedule = startSchedule({
    cron: ctx.config.schedule.cron,
    timeZone: ctx.config.schedule.timeZone,
    job,
    logger: ctx.logger,
  });
  register('schedule', () => schedule.stop());
  if (runNow) await job(ctx.signal).catch((error: unknown) => ctx.logger.error({ err: error }, 'start-up run failed'));
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await schedule.stop();
  return ExitCode.OK;
}
