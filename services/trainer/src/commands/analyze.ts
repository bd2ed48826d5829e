import type { Writable } from 'node:stream';
import { type AnalyzeOptionsInput, type AnalyzeProgress, runFeatureInsight } from '../analyze/index.js';
import { reportJson } from '../analyze/log-report.js';
import { renderSummary } from '../analyze/render-summary.js';
import { requireDatabaseUrl } from '../config.js';
import { resolveFeatureSpec } from '../feature-spec-source.js';
import { loadWindow } from '../pipeline/load-window.js';
import {
  type CommandContext,
  defineCommand,
  ExitCode,
  flagOption,
  integerOption,
  numberOption,
  type OptionValues,
  textOption,
  UsageError,
  writeLine,
} from './command.js';
import { openDatabasePool } from './database-pool.js';

const options = {
  out: textOption('DIR', 'directory for report.html and report.json (default ./feature-insight)'),
  'run-id': textOption('ID', 'also log the report as artifacts of this MLflow run (feature-insight/)', {
    pattern: /^[A-Za-z0-9_-]{1,64}$/,
    expected: 'an MLflow run id (letters, digits, _ and -)',
  }),
  'new-run': flagOption('also log it into a new MLflow run of the experiment'),
  'sample-rows': integerOption('N', 'training rows each model trains on   (ANALYZE_SAMPLE_ROWS, 200000)'),
  'holdout-rows': integerOption('N', 'holdout rows each model is scored on (ANALYZE_HOLDOUT_ROWS, 100000)'),
  seed: integerOption('N', 'seed of samples and down-sampling    (ANALYZE_SEED, 1)'),
  'candidate-fields': integerOption('N', 'screen pairs among the N strongest fields (ANALYZE_CANDIDATE_FIELDS, 16)'),
  'candidate-pairs': integerOption('N', "train the screen's best N pairs      (ANALYZE_CANDIDATE_PAIRS, 10)"),
  'top-values': integerOption('N', 'top values listed per field          (ANALYZE_TOP_VALUES, 10)'),
  'min-ne-gain': numberOption('X', 'smallest NE gain worth keeping/adding (ANALYZE_MIN_NE_GAIN, 0.0005)', {
    min: 0,
    max: 1,
  }),
  json: flagOption('print the JSON report on stdout instead of the summary table'),
  quiet: flagOption('no progress lines on stderr'),
};

export const analyzeCommand = defineCommand({
  name: 'analyze',
  summary: 'feature insight: which fields and crosses earn their keep',
  description: `Feature insight: which fields and crosses of the feature spec earn their keep, and what each
costs to serve. Uses the window \`run\` uses (TRAIN_WINDOW_HOURS, HOLDOUT_HOURS,
ATTRIBUTION_WINDOW_MINUTES, TRAIN_WINDOW_END), its FEATURE_SPEC and FTRL_* settings; trains
FTRL on a sample for each ablation and candidate cross and scores all on the same holdout rows.
Writes report.html (self-contained, SVG charts) and report.json, prints a summary table.`,
  options,
  logTo: 'stderr',
  async run(ctx, flags) {
    if (flags['run-id'] !== undefined && flags['new-run'])
      throw new UsageError('--run-id and --new-run exclude each other');
    const spec = resolveFeatureSpec(ctx.config.featureSpecSource);
    const db = openDatabasePool(requireDatabaseUrl(ctx.config), 'fallback-ctr-analyze', ctx.logger);
    let newRun: string | undefined;
    try {
      if (flags['new-run']) newRun = await startReportRun(ctx);
      const runId = flags['run-id'] ?? newRun;
      // The report reads every row (no negative down-sampling): it measures the data as served.
      const { clicklogSchema, window } = ctx.config;
      const split = await loadWindow({ clicklogSchema, window }, db, ctx.logger);
      const result = await runFeatureInsight({
        split,
        spec,
        training: ctx.config,
        options: analyzeOptions(flags, ctx.analyze.options),
        logger: ctx.logger,
        outDir: flags.out ?? 'feature-insight',
        mlflow: runId ? { client: ctx.mlflow, runId } : undefined,
        ...(flags.quiet ? {} : { onProgress: progressPrinter(ctx.io.stderr) }),
        signal: ctx.signal,
      });
      if (newRun) await ctx.mlflow.finishRun(newRun, 'FINISHED');
      writeLine(ctx.io.stdout, flags.json ? reportJson(result.report) : renderSummary(result.report));
      if (!flags.json) {
        const logged = result.logged ? `; MLflow run ${runId}: ${result.logged.files.join(', ')}` : '';
        writeLine(ctx.io.stdout, `report: ${result.files.join(', ')}${logged}`);
      }
      return ExitCode.OK;
    } catch (error) {
      if (newRun) await ctx.mlflow.finishRun(newRun, 'FAILED').catch(() => undefined);
      throw error;
    } finally {
      await db.end();
    }
  },
});

async function startReportRun(ctx: CommandContext): Promise<string> {
  const experiment = await ctx.mlflow.getOrCreateExperiment(ctx.config.mlflow.experimentName);
  const run = await ctx.mlflow.createRun({
    experimentId: experiment.experimentId,
    runName: 'feature-insight',
    tags: { 'fallback-ctr.kind': 'feature-insight' },
  });
  return run.info.runId;
}

/** Flag values over the ANALYZE_* settings. */
function analyzeOptions(flags: OptionValues<typeof options>, base: AnalyzeOptionsInput): AnalyzeOptionsInput {
  const given = {
    sampleRows: flags['sample-rows'],
    holdoutRows: flags['holdout-rows'],
    seed: flags.seed,
    candidateFields: flags['candidate-fields'],
    candidatePairs: flags['candidate-pairs'],
    topValues: flags['top-values'],
    minNeGain: flags['min-ne-gain'],
  };
  return { ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}

function progressPrinter(stderr: Writable): (p: AnalyzeProgress) => void {
  return (p) => {
    const counter = p.total > 0 ? ` ${p.done}/${p.total}` : '';
    writeLine(stderr, `[analyze ${p.stage}${counter}] ${p.message}`);
  };
}
