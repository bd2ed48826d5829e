import type { SplitPart } from '@fallback-ctr/clicklog';
import {
  baseRateLogOdds,
  type TrainHooks,
  type TrainResult,
  toArtifactInput,
  trainOnBatches,
  trainOnBatchUntil,
  trainOnBatchWithProgress,
} from '@fallback-ctr/learn';
import {
  createFeaturizer,
  createScorer,
  type FeatureSpec,
  parseArtifact,
  type Scorer,
  type SerializedArtifact,
  serializeArtifact,
} from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { learnTrainOptions } from './train-options.js';
import { countTrainingValues, type TrainingRowsInMemory } from './training-rows.js';

export interface TrainingProgress {
  pass: number;
  passes: number;
  /** Rows read in this pass so far. */
  rows: number;
  /** Rows read over all passes so far (the MLflow step). */
  totalRows: number;
  rowsPerSecond: number;
  /** Mean progressive-validation logloss of this pass so far (each row scored before it is learned). */
  runningLogloss: number;
  elapsedMs: number;
  /** True for the report at the end of a pass. */
  passDone: boolean;
}

export interface TrainCandidateOptions {
  featureSpec: FeatureSpec;
  ftrl: TrainerConfig['ftrl'];
  passes: number;
  progressIntervalMs: number;
  /** Progress is also reported (to `onProgress`, not the log) after about this many rows. */
  progressEveryRows?: number;
  logger: Logger;
  /** Awaited at each progress interval and at the end of each pass (e.g. to log MLflow metrics). */
  onProgress?: (progress: TrainingProgress) => Promise<void> | void;
  signal?: AbortSignal;
  /**
   * The training part the search read: when complete, trained from memory (the click log is not read
   * again); else its counts spare the counting pass and the passes stream.
   */
  rows?: TrainingRowsInMemory;
  /**
   * With rows complete in memory: `passes` is the most, and the fit ends at the pass this resolves to
   * (the search's last rung choosing it meanwhile): the model of that many passes (trainOnBatchUntil).
   */
  passesChosen?: Promise<number>;
}

export interface TrainedCandidate {
  result: TrainResult;
  /** Rows and clicks of the training part (before negative down-sampling; every click is kept). */
  rows: number;
  clicks: number;
}

/**
 * Stage 2 — train: FTRL-Proximal over the training part. Without rows in memory (no search ran), the
 * rows are featurised straight from the reader's column batches: one pass counts the values (the
 * vocabulary), then each training pass re-reads them from Postgres, so memory does not grow with the
 * window. With the rows the search read (`o.rows`, complete), it trains on them: the same rows in the
 * same order, so the same model, without reading the click log again. Progress (rows, rows/s, pass, running
 * logloss) is reported at a steady interval. With a negative sampling rate below 1 the database left
 * the other non-clicks out of the read (the split's trainNegativeSampling) and the rate re-calibrates.
 */
export async function trainCandidate(
  train: Pick<SplitPart, 'read' | 'rows'>,
  o: TrainCandidateOptions,
): Promise<TrainedCandidate> {
  const { minValueCount, negativeSamplingRate } = o.ftrl;
  // Below 1 the database already left the other non-clicks out: the learner draws nothing again.
  const sampledUpstream = negativeSamplingRate < 1;
  const options = {
    ...learnTrainOptions(o),
    hashBits: o.featureSpec.hashBits,
    negativesSampledUpstream: sampledUpstream,
  };
  const hooks = progressHooks(o);
  let result: TrainResult;
  if (o.rows?.complete) {
    const input = { ...options, rareTokenDraws: o.rows.counts?.rareTokenDraws, initialBias: 'base-rate' as const };
    result = o.passesChosen
      ? await trainOnBatchUntil(o.rows.batch, input, o.passesChosen, hooks)
      : await trainOnBatchWithProgress(o.rows.batch, input, hooks);
  } else {
    // A search that held only the most recent rows counted the values and labels of the whole part already.
    const counted = o.rows ?? (minValueCount > 0 ? await countTrainingValues(train, o) : undefined);
    const counts = counted?.counts;
    const labels = counted?.labelCounts;
    const featurizer = createFeaturizer(o.featureSpec, counts ? { vocabulary: counts.vocabulary } : {});
    // Without a counting pass (TRAIN_MIN_VALUE_COUNT=0, no search) the base rate is not known before training.
    const initialBias = labels === undefined ? 0 : baseRateLogOdds(labels.clicks, labels.rows);
    result = await trainOnBatches(
      () => train.read({ signal: o.signal }).batches(),
      featurizer,
      { ...options, rareTokenDraws: counts?.rareTokenDraws, initialBias },
      hooks,
    );
  }
  const firstPass = result.passes[0];
  const rows = sampledUpstream ? train.rows : (firstPass?.rows ?? 0);
  return { result, rows, clicks: firstPass?.positives ?? 0 };
}

/** Training progress to the log (one line per interval and pass) and to `o.onProgress`; stops on abort. */
function progressHooks(o: TrainCandidateOptions): TrainHooks {
  let nextLogLine = Date.now() + o.progressIntervalMs;
  return {
    progressIntervalMs: o.progressIntervalMs,
    ...(o.progressEveryRows !== undefined ? { progressEveryRows: o.progressEveryRows } : {}),
    onProgress: async (p) => {
      // The reader ends quietly when aborted: a short pass is not a finished one.
      if (o.signal?.aborted) throw o.signal.reason;
      if (p.passDone && p.rows === 0) {
        throw new TrainerError(TrainerErrorCode.NOT_ENOUGH_DATA, 'the training part of the window has no rows');
      }
      const progress: TrainingProgress = {
        pass: p.pass,
        passes: p.passes,
        rows: p.rows,
        totalRows: p.totalRows,
        rowsPerSecond: p.passElapsedMs > 0 ? Math.round((p.rows * 1000) / p.passElapsedMs) : 0,
        runningLogloss: p.progressiveLogloss,
        elapsedMs: p.elapsedMs,
        passDone: p.passDone,
      };
      // Row-count reports feed the learning curve; the log gets one line per interval and pass.
      if (p.passDone || Date.now() >= nextLogLine) {
        const what = p.passDone ? ' done' : `: ${p.rows} rows, ${progress.rowsPerSecond} rows/s`;
        o.logger.info({ progress }, `training pass ${p.pass}/${p.passes}${what}`);
        nextLogLine = Date.now() + o.progressIntervalMs;
      }
      await o.onProgress?.(progress);
    },
  };
}

export interface ShippedCandidate {
  serialized: SerializedArtifact;
  /** The serialized artifact, parsed and verified as inference does: what the holdout evaluates. */
  scorer: Scorer;
}

/** The trained model as the artifact that will be shipped, and a scorer read back from its bytes. */
export function shipCandidate(
  trained: TrainedCandidate,
  featureSpec: FeatureSpec,
  createdAt: Date,
  runId: string,
): ShippedCandidate {
  const serialized = serializeArtifact(toArtifactInput(trained.result, { featureSpec, createdAt, notes: { runId } }));
  return { serialized, scorer: createScorer(parseArtifact(serialized.bytes)) };
}
