import { parseTrainOptions } from '@fallback-ctr/learn';
import { type FeatureSpec, parseFeatureSpec } from '@fallback-ctr/model';
import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import { measureAblations } from './ablations.js';
import { type AnalyzeOptions, type AnalyzeOptionsInput, AnalyzeOptionsSchema } from './analyze-options.js';
import { assembleReport } from './assemble-report.js';
import { measureCandidateCrosses } from './candidate-crosses.js';
import { measureCombined } from './combined-recommendation.js';
import { type FeatureReport, FeatureReportSchema } from './feature-report.js';
import { ModelBench } from './model-bench.js';
import type { AnalysisTrainOptions } from './model-fit.js';
import { type Rows, readSamples } from './read-samples.js';
import { measureVariantCosts } from './variant-costs.js';

export type AnalyzeStage = 'profile' | 'holdout' | 'models' | 'serving-cost' | 'done';

export interface AnalyzeProgress {
  stage: AnalyzeStage;
  done: number;
  /** Unknown (0) while streaming rows. */
  total: number;
  message: string;
}

export interface AnalyzeFeaturesInput {
  /** The training part of the window, time-ordered (streamed once). */
  train: Rows;
  /** The holdout part, strictly later (streamed once). */
  holdout: Rows;
  spec: FeatureSpec;
  /** The trainer's FTRL settings (hashBits comes from the spec). */
  training: AnalysisTrainOptions;
  options?: AnalyzeOptionsInput;
  /** The window the rows came from, for the report. */
  window?: { trainFrom: Date; holdoutFrom: Date; holdoutTo: Date };
  logger?: Logger;
  onProgress?: (progress: AnalyzeProgress) => void;
  signal?: AbortSignal;
  clock?: () => Date;
}

/**
 * The feature-insight analysis: which fields and crosses earn their keep on the holdout, and what each
 * costs to serve. Streams the training part once (profile of every field and cross + a uniform sample)
 * and the holdout once (a sample), then trains FTRL with the trainer's settings on the sample for: the
 * full spec, each field alone, the spec without each field (and its crosses), without each cross, and
 * with each candidate cross among the strongest fields; every model is scored on the same holdout rows.
 * Each stage is a function of its own file with a typed result; this one only runs them in order.
 */
export async function analyzeFeatures(input: AnalyzeFeaturesInput): Promise<FeatureReport> {
  const started = Date.now();
  const options: AnalyzeOptions = AnalyzeOptionsSchema.parse(input.options ?? {});
  const spec = parseFeatureSpec(input.spec);
  const training = parseTrainOptions({
    ...input.training,
    hashBits: spec.hashBits,
    seed: input.training.seed ?? options.seed,
  });
  const progress = progressReporter(input.logger ?? silentLogger(), input.onProgress);
  const { signal } = input;

  const samples = await readSamples(
    input.train,
    input.holdout,
    spec,
    options,
    (p) => {
      const what = p.stage === 'profile' ? 'profiled' : 'read';
      const total = p.done ? p.rows : 0;
      progress({
        stage: p.stage,
        done: p.rows,
        total,
        message: `${what} ${p.rows} ${p.stage === 'profile' ? 'training' : 'holdout'} rows`,
      });
    },
    signal,
  );
  const { hashBits: _hashBits, ...trainOptions } = training;
  const bench = new ModelBench({
    spec,
    trainRows: samples.train,
    holdoutRows: samples.holdout,
    training: trainOptions,
    signal,
    onFit: (p) =>
      progress({
        stage: 'models',
        done: p.trained,
        total: p.planned,
        message: `model ${p.trained}/${p.planned} ${p.label}: NE ${p.ne.toFixed(4)}`,
      }),
  });
  const ablations = measureAblations(bench);
  const candidates = measureCandidateCrosses(bench, ablations, samples.train, options);
  const thresholds = { minNeGain: options.minNeGain, significanceZ: options.significanceZ };
  const combined = measureCombined(bench, ablations, candidates, thresholds);
  const costs = measureVariantCosts({
    spec,
    candidates: candidates.candidates,
    combinedSpec: combined.spec,
    weights: ablations.full.weights(),
    holdoutRows: samples.holdout,
    options,
    onStart: (scorers) =>
      progress({ stage: 'serving-cost', done: 0, total: scorers, message: `timing ${scorers} scorers` }),
  });

  const report = assembleReport({
    spec,
    options,
    training: {
      alpha: training.alpha,
      beta: training.beta,
      l1: training.l1,
      l2: training.l2,
      passes: training.passes,
      negativeSamplingRate: training.negativeSamplingRate,
    },
    window: input.window
      ? {
          trainFrom: input.window.trainFrom.toISOString(),
          holdoutFrom: input.window.holdoutFrom.toISOString(),
          holdoutTo: input.window.holdoutTo.toISOString(),
        }
      : null,
    generatedAt: (input.clock ?? (() => new Date()))(),
    elapsedMs: Date.now() - started,
    samples,
    bench,
    ablations,
    candidates,
    combined,
    costs,
  });
  progress({
    stage: 'done',
    done: 1,
    total: 1,
    message: `feature analysis done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  });
  return FeatureReportSchema.parse(report);
}

/** Progress to the caller, and to the log: model lines at debug, the rest at info. */
function progressReporter(logger: Logger, onProgress: ((p: AnalyzeProgress) => void) | undefined) {
  return (p: AnalyzeProgress) => {
    onProgress?.(p);
    const fields = { stage: p.stage, done: p.done, total: p.total };
    if (p.stage === 'models') logger.debug(fields, p.message);
    else logger.info(fields, p.message);
  };
}
