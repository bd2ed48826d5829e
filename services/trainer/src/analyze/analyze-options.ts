import { z } from 'zod';

/** Settings of a feature-insight analysis (FTRL settings come from the trainer's config). */
export const AnalyzeOptionsSchema = z.object({
  /** Training rows every model of the analysis trains on (a uniform, time-ordered sample of the training part). */
  sampleRows: z.number().int().min(100).max(20_000_000).default(200_000),
  /** Holdout rows every model is evaluated on (a uniform sample of the holdout part). */
  holdoutRows: z.number().int().min(100).max(20_000_000).default(100_000),
  /** Seed of the samples and of FTRL's down-sampling draws: same data + same seed = same report. */
  seed: z.number().int().default(1),
  /** Pairs among this many strongest fields (by single-field NE) that the spec does not cross are screened. */
  candidateFields: z.number().int().min(0).max(64).default(16),
  /** The screen's best this many pairs are trained and measured on the holdout as candidate crosses. */
  candidatePairs: z.number().int().min(0).max(500).default(10),
  /** Top values listed per field. */
  topValues: z.number().int().min(1).max(200).default(10),
  /** A field or cross is kept/added only when it gains at least this much NE (absolute, e.g. 0.0005). */
  minNeGain: z.number().min(0).max(1).default(0.0005),
  /** ... and at least this many standard errors of the paired NE difference. */
  significanceZ: z.number().min(0).max(10).default(2),
  /** Holdout impressions scored per timing round of the serving-cost measurement. */
  timingImpressions: z.number().int().min(10).max(1_000_000).default(500),
  /** Timing rounds (the fastest round of each scorer counts: the one least disturbed by other work). */
  timingRounds: z.number().int().min(1).max(1_000).default(41),
  /** Distinct values tracked per field or cross in the profile; cardinality beyond it is a lower bound. */
  maxTrackedValues: z.number().int().min(1_000).max(50_000_000).default(5_000_000),
});
export type AnalyzeOptions = z.output<typeof AnalyzeOptionsSchema>;
export type AnalyzeOptionsInput = z.input<typeof AnalyzeOptionsSchema>;
