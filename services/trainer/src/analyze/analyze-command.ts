import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createMlflowClient, type MlflowClient } from '@fallback-ctr/mlflow';
import { ConfigError, createLogger, type Env } from '@fallback-ctr/runtime';
import pg from 'pg';
import { loadTrainerConfig, type TrainerConfig } from '../config.js';
import { resolveFeatureSpec } from '../feature-spec-source.js';
import { loadWindow } from '../pipeline/load-window.js';
import { type AnalyzeSettings, loadAnalyzeSettings } from './analyze-env.js';
import type { AnalyzeProgress } from './analyze-features.js';
import type { AnalyzeOptionsInput } from './analyze-options.js';
import { runFeatureInsight } from './feature-insight.js';
import { reportJson } from './log-report.js';
import { renderSummary } from './render-summary.js';

/** The trainer CLI's exit codes (same values as its ExitCode). */
const Exit = { OK: 0, ERROR: 1, USAGE: 2, INTERRUPTED: 143 } as const;

export const ANALYZE_USAGE = `Usage: fallback-ctr-trainer analyze [options]

Feature insight: which fields and crosses of the feature spec earn their keep, and what each
costs to serve. Uses the window \`run\` uses (TRAIN_WINDOW_HOURS, HOLDOUT_HOURS,
ATTRIBUTION_WINDOW_MINUTES, TRAIN_WINDOW_END), its FEATURE_SPEC and FTRL_* settings; trains
FTRL on a sample for each ablation and candidate cross and scores all on the same holdout rows.
Writes report.html (self-contained, SVG charts) and report.json, prints a summary table.

Options:
  --out DIR               directory for report.html and report.json (default ./feature-insight)
  --run-id ID             also log the report as artifacts of this MLflow run (feature-insight/)
  --new-run               also log it into a new MLflow run of the experiment
  --sample-rows N         training rows each model trains on   (ANALYZE_SAMPLE_ROWS, 200000)
  --holdout-rows N        holdout rows each model is scored on (ANALYZE_HOLDOUT_ROWS, 100000)
  --seed N                seed of samples and down-sampling    (ANALYZE_SEED, 1)
  --candidate-fields N    screen pairs among the N strongest fields (ANALYZE_CANDIDATE_FIELDS, 16)
  --candidate-pairs N     train the screen's best N pairs      (ANALYZE_CANDIDATE_PAIRS, 10)
  --top-values N          top values listed per field          (ANALYZE_TOP_VALUES, 10)
  --min-ne-gain X         smallest NE gain worth keeping/adding (ANALYZE_MIN_NE_GAIN, 0.0005)
  --json                  print the JSON report on stdout instead of the summary table
  --quiet                 no progress lines on stderr
  -h, --help              this text

Exit codes: 0 done, 1 error, 2 usage or configuration, 143 interrupted.`;

export interface AnalyzeCommandIo {
  env: Env;
  stdout: Writable;
  stderr: Writable;
  /** Where log lines go (default stderr, so stdout carries only the table or the JSON). */
  logDestination?: Writable;
  signal?: AbortSignal;
  /** Default: a client from the trainer config (only created when a run is to be logged to). */
  mlflow?: MlflowClient;
}

function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

const INT_FLAGS = {
  'sample-rows': 'sampleRows',
  'holdout-rows': 'holdoutRows',
  seed: 'seed',
  'candidate-fields': 'candidateFields',
  'candidate-pairs': 'candidatePairs',
  'top-values': 'topValues',
} as const;

type Flags = Record<string, string | boolean | undefined>;

/** Flag values over the ANALYZE_* settings; returns an error text for a malformed number. */
function optionsFromFlags(flags: Flags, base: AnalyzeOptionsInput): AnalyzeOptionsInput | string {
  const out: AnalyzeOptionsInput = { ...base };
  for (const [flag, key] of Object.entries(INT_FLAGS)) {
    const v = flags[flag];
    if (typeof v !== 'string') continue;
    if (!/^-?[0-9]+$/.test(v)) return `--${flag} must be an integer, got "${v}"`;
    out[key] = Number(v);
  }
  const gain = flags['min-ne-gain'];
  if (typeof gain === 'string') {
    const x = Number(gain);
    if (gain.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) {
      return `--min-ne-gain must be a number in [0, 1], got "${gain}"`;
    }
    out.minNeGain = x;
  }
  return out;
}

function progressPrinter(stderr: Writable): (p: AnalyzeProgress) => void {
  return (p) => {
    const counter = p.total > 0 ? ` ${p.done}/${p.total}` : '';
    write(stderr, `[analyze ${p.stage}${counter}] ${p.message}`);
  };
}

/**
 * `fallback-ctr-trainer analyze`: parses its own argv (what follows "analyze"), reads the trainer's
 * configuration, analyses the window and delivers the report. Resolves to the exit code.
 */
export async function runAnalyzeCommand(
  argv: readonly string[],
  ioInput: Partial<AnalyzeCommandIo> = {},
): Promise<number> {
  const io: AnalyzeCommandIo = { env: process.env, stdout: process.stdout, stderr: process.stderr, ...ioInput };
  let flags: Flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        out: { type: 'string' },
        'run-id': { type: 'string' },
        'new-run': { type: 'boolean' },
        'sample-rows': { type: 'string' },
        'holdout-rows': { type: 'string' },
        seed: { type: 'string' },
        'candidate-fields': { type: 'string' },
        'candidate-pairs': { type: 'string' },
        'top-values': { type: 'string' },
        'min-ne-gain': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    write(io.stderr, `${(error as Error).message}\n\n${ANALYZE_USAGE}`);
    return Exit.USAGE;
  }
  if (flags.help) {
    write(io.stdout, ANALYZE_USAGE);
    return Exit.OK;
  }
  const runIdFlag = flags['run-id'];
  if (typeof runIdFlag === 'string' && flags['new-run']) {
    write(io.stderr, '--run-id and --new-run exclude each other');
    return Exit.USAGE;
  }
  if (typeof runIdFlag === 'string' && !/^[A-Za-z0-9_-]{1,64}$/.test(runIdFlag)) {
    write(io.stderr, `--run-id must be an MLflow run id (letters, digits, _ and -), got "${runIdFlag}"`);
    return Exit.USAGE;
  }

  let config: TrainerConfig;
  let settings: AnalyzeSettings;
  try {
    config = loadTrainerConfig(io.env);
    settings = loadAnalyzeSettings(io.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      write(io.stderr, error.message);
      return Exit.USAGE;
    }
    throw error;
  }
  const options = optionsFromFlags(flags, settings.options);
  if (typeof options === 'string') {
    write(io.stderr, `${options}\n\n${ANALYZE_USAGE}`);
    return Exit.USAGE;
  }

  const logger = createLogger({
    name: 'trainer-analyze',
    level: config.logLevel,
    destination: io.logDestination ?? io.stderr,
  });
  const signal = io.signal;
  const db = new pg.Pool({ connectionString: config.databaseUrl, max: 2, application_name: 'fallback-ctr-analyze' });
  db.on('error', (error) => logger.error({ err: error }, 'idle Postgres connection failed'));
  let newRun: { client: MlflowClient; runId: string } | undefined;
  try {
    const spec = resolveFeatureSpec(config.featureSpecSource);
    const mlflowClient =
      typeof runIdFlag === 'string' || flags['new-run']
        ? (io.mlflow ??
          createMlflowClient({ ...config.mlflow.clientOptions, logger, ...(signal ? { retryHooks: { signal } } : {}) }))
        : undefined;
    let mlflow: { client: MlflowClient; runId: string } | undefined;
    if (mlflowClient && typeof runIdFlag === 'string') mlflow = { client: mlflowClient, runId: runIdFlag };
    else if (mlflowClient) {
      const experiment = await mlflowClient.getOrCreateExperiment(config.mlflow.experimentName);
      const run = await mlflowClient.createRun({
        experimentId: experiment.experimentId,
        runName: 'feature-insight',
        tags: { 'fallback-ctr.kind': 'feature-insight' },
      });
      newRun = { client: mlflowClient, runId: run.info.runId };
      mlflow = newRun;
    }
    const split = await loadWindow(config, db, logger);
    const result = await runFeatureInsight({
      split,
      spec,
      config,
      options,
      logger,
      outDir: typeof flags.out === 'string' ? flags.out : 'feature-insight',
      ...(mlflow ? { mlflow } : {}),
      ...(flags.quiet ? {} : { onProgress: progressPrinter(io.stderr) }),
      ...(signal ? { signal } : {}),
    });
    if (newRun) await newRun.client.finishRun(newRun.runId, 'FINISHED');
    write(io.stdout, flags.json ? reportJson(result.report) : renderSummary(result.report));
    if (!flags.json) {
      write(
        io.stdout,
        `report: ${result.files.join(', ')}${result.logged ? `; MLflow run ${mlflow?.runId}: ${result.logged.files.join(', ')}` : ''}`,
      );
    }
    return Exit.OK;
  } catch (error) {
    if (newRun) await newRun.client.finishRun(newRun.runId, 'FAILED').catch(() => undefined);
    if (signal?.aborted) {
      logger.warn({ outcome: 'INTERRUPTED' }, 'analyze interrupted');
      return Exit.INTERRUPTED;
    }
    const code = (error as { code?: unknown }).code;
    logger.error({ err: error, code }, `analyze failed: ${error instanceof Error ? error.message : String(error)}`);
    write(io.stderr, `analyze failed: ${error instanceof Error ? error.message : String(error)}`);
    return Exit.ERROR;
  } finally {
    await db.end();
  }
}
