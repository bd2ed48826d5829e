import type { SplitPart } from '@fallback-ctr/clicklog';
import {
  createFtrl,
  createPrng,
  drawMissingFields,
  type PassReport,
  parseTrainOptions,
  type TrainResult,
} from '@fallback-ctr/learn';
import { createFeaturizer, type FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type { TrainerConfig } from '../config.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';

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
  logger: Logger;
  /** Awaited at each progress interval and at the end of each pass (e.g. to log MLflow metrics). */
  onProgress?: (progress: TrainingProgress) => Promise<void> | void;
  signal?: AbortSignal;
}

export interface TrainedCandidate {
  result: TrainResult;
  /** Rows and clicks of the training part (first pass). */
  rows: number;
  clicks: number;
}

const CLOCK_EVERY = 4_096;

/**
 * Stage 2 — train: FTRL-Proximal over the training part, featurising each row with the spec.
 * Each pass re-reads the rows from Postgres through a cursor, so memory does not grow with the
 * window; progress (rows, rows/s, pass, running logloss) is reported at a steady interval.
 */
export async function trainCandidate(
  train: Pick<SplitPart, 'read'>,
  o: TrainCandidateOptions,
): Promise<TrainedCandidate> {
  const featurizer = createFeaturizer(o.featureSpec);
  const options = parseTrainOptions({ ...o.ftrl, hashBits: o.featureSpec.hashBits, passes: o.passes });
  const ftrl = createFtrl(options);
  const buf = new Uint32Array(featurizer.maxIndices);
  const missingMask = new Uint8Array(o.featureSpec.fields.length);
  const missingRand = createPrng(options.seed + 1);
  const passes: PassReport[] = [];
  const started = Date.now();
  let totalRows = 0;
  let firstPass = { rows: 0, clicks: 0 };
  let dataFrom: Date | undefined;
  let dataTo: Date | undefined;

  for (let pass = 1; pass <= o.passes; pass++) {
    const passStarted = Date.now();
    let nextReport = passStarted + o.progressIntervalMs;
    let rows = 0;
    let clicks = 0;
    let loss = 0;
    const progress = (passDone: boolean): TrainingProgress => {
      const elapsed = Date.now() - passStarted;
      return {
        pass,
        passes: o.passes,
        rows,
        totalRows,
        rowsPerSecond: elapsed > 0 ? Math.round((rows * 1000) / elapsed) : 0,
        runningLogloss: rows > 0 ? loss / rows : Number.NaN,
        elapsedMs: Date.now() - started,
        passDone,
      };
    };
    for await (const row of train.read(o.signal ? { signal: o.signal } : {})) {
      const y = row.label;
      if (pass === 1) {
        dataFrom ??= row.servedAt;
        dataTo = row.servedAt;
      }
      const forceMissing = drawMissingFields(missingMask, options.missingRate, missingRand);
      const width = featurizer.featurize(row.impression, buf, forceMissing);
      const p = ftrl.update(buf, 0, width, y);
      const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
      loss -= y === 1 ? Math.log(q) : Math.log(1 - q);
      clicks += y;
      rows++;
      totalRows++;
      if ((rows & (CLOCK_EVERY - 1)) === 0 && Date.now() >= nextReport) {
        const p = progress(false);
        o.logger.info({ progress: p }, `training pass ${pass}/${o.passes}: ${rows} rows, ${p.rowsPerSecond} rows/s`);
        await o.onProgress?.(p);
        nextReport = Date.now() + o.progressIntervalMs;
      }
    }
    if (o.signal?.aborted) throw o.signal.reason;
    if (rows === 0) {
      throw new TrainerError(TrainerErrorCode.NOT_ENOUGH_DATA, 'the training part of the window has no rows');
    }
    if (pass === 1) firstPass = { rows, clicks };
    const report = progress(true);
    passes.push({ pass, rows, positives: clicks, progressiveLogloss: report.runningLogloss });
    o.logger.info({ progress: report }, `training pass ${pass}/${o.passes} done`);
    await o.onProgress?.(report);
  }
  return {
    result: { ftrl, options, passes, ...(dataFrom ? { dataFrom } : {}), ...(dataTo ? { dataTo } : {}) },
    rows: firstPass.rows,
    clicks: firstPass.clicks,
  };
}
