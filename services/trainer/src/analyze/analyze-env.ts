import { type Env, envBoolean, envInt, envNumber, parseEnv } from '@fallback-ctr/runtime';
import { z } from 'zod';
import type { AnalyzeOptionsInput } from './analyze-options.js';

/**
 * Environment variables of the feature-insight analysis (`trainer analyze`, and the optional step of
 * `run`). The window, feature spec and FTRL settings are the trainer's own variables.
 */
export const AnalyzeEnvSchema = z.object({
  ANALYZE_ON_RUN: envBoolean()
    .default(false)
    .describe('Also run the feature-insight analysis at the end of `run` and log its report to the run.'),
  ANALYZE_SAMPLE_ROWS: envInt(100, 20_000_000)
    .default(200_000)
    .describe('Training rows every model of the analysis trains on (a uniform, time-ordered sample).'),
  ANALYZE_HOLDOUT_ROWS: envInt(100, 20_000_000)
    .default(100_000)
    .describe('Holdout rows every model of the analysis is scored on.'),
  ANALYZE_SEED: envInt().default(1).describe('Seed of the samples and of the down-sampling draws.'),
  ANALYZE_CANDIDATE_FIELDS: envInt(0, 64)
    .default(16)
    .describe('Pairs among this many strongest fields (by single-field NE) are screened as new crosses.'),
  ANALYZE_CANDIDATE_PAIRS: envInt(0, 500)
    .default(10)
    .describe("The screen's best this many pairs are trained and measured as candidate crosses."),
  ANALYZE_TOP_VALUES: envInt(1, 200).default(10).describe('Top values listed per field.'),
  ANALYZE_MIN_NE_GAIN: envNumber()
    .refine((v) => v >= 0 && v <= 1, 'a number in [0, 1]')
    .default(0.0005)
    .describe('A field or cross is kept or added only when it gains at least this much NE (and 2 standard errors).'),
});
export type AnalyzeEnv = z.output<typeof AnalyzeEnvSchema>;

/** `onRun`: run the analysis as the last step of `run`; `options`: the analysis settings. */
export type AnalyzeSettings = ReturnType<typeof loadAnalyzeSettings>;

/** Reads the ANALYZE_* variables; throws one ConfigError listing every bad one. */
export function loadAnalyzeSettings(env: Env = process.env) {
  const e = parseEnv(AnalyzeEnvSchema, env);
  return {
    onRun: e.ANALYZE_ON_RUN,
    options: {
      sampleRows: e.ANALYZE_SAMPLE_ROWS,
      holdoutRows: e.ANALYZE_HOLDOUT_ROWS,
      seed: e.ANALYZE_SEED,
      candidateFields: e.ANALYZE_CANDIDATE_FIELDS,
      candidatePairs: e.ANALYZE_CANDIDATE_PAIRS,
      topValues: e.ANALYZE_TOP_VALUES,
      minNeGain: e.ANALYZE_MIN_NE_GAIN,
    } satisfies AnalyzeOptionsInput,
  };
}

/** The variable names, for manifests and docs. */
export const ANALYZE_ENV_NAMES: readonly string[] = Object.keys(AnalyzeEnvSchema.shape);
