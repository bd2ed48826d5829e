import type { LabeledImpression } from '@fallback-ctr/learn';
import type { FeatureSpec } from '@fallback-ctr/model';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import type { AnalyzeOptions } from './analyze-options.js';
import { FieldProfiler, type ProfileResult } from './field-profile.js';
import { ReservoirSample } from './reservoir-sample.js';

export type Rows = Iterable<LabeledImpression> | AsyncIterable<LabeledImpression>;

export interface Samples {
  /** Every field and cross profiled over the whole training part. */
  profile: ProfileResult;
  /** Uniform samples, in time order. */
  train: LabeledImpression[];
  holdout: LabeledImpression[];
  /** Holdout rows read (the sample is at most `holdoutRows` of them). */
  holdoutRowsRead: number;
}

export interface SampleProgress {
  stage: 'profile' | 'holdout';
  rows: number;
  /** True once the part has been read to its end. */
  done: boolean;
}

const ROW_PROGRESS_EVERY = 100_000;

/**
 * Stage 1 — read the window once: the training part is profiled and sampled, the holdout sampled.
 * Fails with TRAINER_NOT_ENOUGH_DATA when either sample lacks clicks or non-clicks.
 */
export async function readSamples(
  train: Rows,
  holdout: Rows,
  spec: FeatureSpec,
  options: AnalyzeOptions,
  onProgress: (p: SampleProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Samples> {
  const profiler = new FieldProfiler(spec, {
    topValues: options.topValues,
    maxTrackedValues: options.maxTrackedValues,
  });
  const trainSample = new ReservoirSample<LabeledImpression>(options.sampleRows, options.seed);
  for await (const row of train) {
    profiler.add(row);
    trainSample.offer(row);
    if (trainSample.offered % ROW_PROGRESS_EVERY === 0) {
      signal?.throwIfAborted();
      onProgress({ stage: 'profile', rows: trainSample.offered, done: false });
    }
  }
  const profile = profiler.result();
  onProgress({ stage: 'profile', rows: profile.rows, done: true });

  const holdoutSample = new ReservoirSample<LabeledImpression>(options.holdoutRows, options.seed + 1);
  for await (const row of holdout) {
    holdoutSample.offer(row);
    if (holdoutSample.offered % ROW_PROGRESS_EVERY === 0) signal?.throwIfAborted();
  }
  const samples = {
    profile,
    train: trainSample.items(),
    holdout: holdoutSample.items(),
    holdoutRowsRead: holdoutSample.offered,
  };
  onProgress({ stage: 'holdout', rows: holdoutSample.offered, done: true });
  checkEnough(samples.train, samples.holdout);
  return samples;
}

function checkEnough(train: readonly LabeledImpression[], holdout: readonly LabeledImpression[]): void {
  const clicks = (rows: readonly LabeledImpression[]) => rows.reduce((s, r) => s + (r.label === 1 ? 1 : 0), 0);
  const tc = clicks(train);
  const hc = clicks(holdout);
  if (train.length === 0 || tc === 0 || holdout.length === 0 || hc === 0 || hc === holdout.length) {
    throw new TrainerError(
      TrainerErrorCode.NOT_ENOUGH_DATA,
      `Feature analysis needs clicks and non-clicks in both parts: training sample ${train.length} rows / ${tc} clicks, ` +
        `holdout sample ${holdout.length} rows / ${hc} clicks; widen the window or raise the sample sizes`,
    );
  }
}
