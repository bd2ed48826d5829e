import {
  ClicklogError,
  ClicklogErrorCode,
  type ProfiledField,
  profileWindow,
  type TrainingSplit,
} from '@fallback-ctr/clicklog';
import type { FeatureSpec } from '@fallback-ctr/model';
import type { Logger } from '@fallback-ctr/runtime';
import type pg from 'pg';
import type { TrainerConfig } from '../config.js';
import { checkWindowData, type DataCheckResult } from '../data-checks.js';
import { TrainerError, TrainerErrorCode } from '../errors.js';
import { loadWindow, type WindowBounds } from './load-window.js';

export type CheckedData<T = never> =
  | {
      outcome: 'TRAIN';
      split: TrainingSplit;
      checks: DataCheckResult;
      /** What `alongside` started on the split while the checks ran (undefined when none was given). */
      alongside: Promise<T> | undefined;
    }
  | { outcome: 'SKIP'; reason: string; checks: DataCheckResult };

/**
 * Stage 1 — load and check the data: split the window, profile it in one aggregate pass, and decide
 * before any training whether there is something to learn and measure. An empty window, too few rows or
 * no clicks SKIP the run; feature-spec fields absent from the data fail it (TRAINER_DATA_COVERAGE).
 * `record` receives the checks' metrics (finite numbers) whatever the outcome. `alongside` starts work
 * on the split (the training part's read) while the database profiles the window: the two queries run
 * side by side; when the checks do not say TRAIN, it is aborted and waited for.
 */
export async function loadAndCheckData<T = never>(
  config: Pick<TrainerConfig, 'clicklogSchema' | 'window' | 'dataChecks' | 'ftrl'>,
  db: pg.Pool,
  featureSpec: FeatureSpec,
  bounds: WindowBounds,
  logger: Logger,
  record: (checks: DataCheckResult) => Promise<void>,
  alongside?: (split: TrainingSplit, signal: AbortSignal) => Promise<T>,
): Promise<CheckedData<T>> {
  let split: TrainingSplit | null = null;
  try {
    split = await loadWindow(config, db, logger, bounds);
  } catch (error) {
    if (!(error instanceof ClicklogError && error.code === ClicklogErrorCode.EMPTY_WINDOW)) throw error;
  }
  const stop = new AbortController();
  const started = split && alongside ? alongside(split, stop.signal) : undefined;
  // Its failure is the consumer's to see; until then it must not count as unhandled.
  started?.catch(() => undefined);
  let handedOver = false;
  try {
    const profile = await profileWindow({
      db,
      schema: config.clicklogSchema,
      from: bounds.from,
      to: bounds.to,
      attributionWindowMinutes: config.window.attributionWindowMinutes,
      now: split?.now ?? bounds.now,
      holdoutFrom: split?.holdout.from,
      // The spec's validation guarantees a column field names an impression column.
      fields: featureSpec.fields.map((f) => ({ name: f.name, source: f.source }) as ProfiledField),
    });
    const checks = checkWindowData({
      profile,
      fields: featureSpec.fields,
      thresholds: config.dataChecks,
      window: {
        from: bounds.from,
        to: bounds.to,
        attributionWindowMinutes: config.window.attributionWindowMinutes,
        holdoutHours: config.window.holdoutHours,
      },
      split: split !== null,
    });
    for (const warning of checks.warnings) logger.warn({ dataChecks: checks.metrics }, warning);
    logger.info({ dataChecks: checks.metrics, outcome: checks.outcome }, 'data checked');
    await record(checks);
    if (checks.outcome === 'FAIL') {
      throw new TrainerError(TrainerErrorCode.DATA_COVERAGE, checks.reason);
    }
    if (checks.outcome === 'SKIP' || !split) {
      const reason = checks.outcome === 'SKIP' ? checks.reason : 'the window could not be split';
      return { outcome: 'SKIP', reason, checks };
    }
    handedOver = true;
    return { outcome: 'TRAIN', split, checks, alongside: started };
  } finally {
    if (!handedOver && started) {
      stop.abort();
      await started.catch(() => undefined);
    }
  }
}
