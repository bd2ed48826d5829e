import { createScorer, defaultFeatureSpec } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { evaluateOnHoldout } from '../src/pipeline/evaluate.js';
import { loadWindow, windowBounds } from '../src/pipeline/load-window.js';
import { shipCandidate, trainCandidate } from '../src/pipeline/train-candidate.js';
import { trainerEnv } from './support/e2e.js';
import { useSeededSchema } from './support/seeded-schema.js';

const { schema, pool } = useSeededSchema('neg_sampling');

/** Load → train → ship → evaluate, as `trainer run` does, at one TRAIN_NEGATIVE_SAMPLING_RATE. */
async function trainAt(rate: number) {
  const config = loadTrainerConfig(
    trainerEnv(schema, 'unused', { TRAIN_NEGATIVE_SAMPLING_RATE: String(rate), TRAIN_PASSES: '1' }),
  );
  const logger = silentLogger();
  const split = await loadWindow(config, pool, logger, windowBounds(config.window));
  const trained = await trainCandidate(split.train, {
    featureSpec: defaultFeatureSpec,
    ftrl: config.ftrl,
    passes: 1,
    progressIntervalMs: 60_000,
    logger,
  });
  const shipped = shipCandidate(trained, defaultFeatureSpec, new Date(), 'test');
  const evaluation = await evaluateOnHoldout(split.holdout, shipped.scorer, null, logger);
  return { split, trained, shipped, evaluation };
}

describe('TRAIN_NEGATIVE_SAMPLING_RATE: negative down-sampling in the database', () => {
  it('trains on every click and the kept non-clicks, re-calibrates by the rate, and evaluates on the whole holdout', async () => {
    const full = await trainAt(1);
    const sampled = await trainAt(0.2);
    const fullPass = full.trained.result.passes[0]!;
    const sampledPass = sampled.trained.result.passes[0]!;
    // Every click crossed the wire, about a fifth of the non-clicks did.
    expect(sampledPass.positives).toBe(fullPass.positives);
    const keptShare = (sampledPass.rows - sampledPass.positives) / (fullPass.rows - fullPass.positives);
    expect(keptShare).toBeGreaterThan(0.18);
    expect(keptShare).toBeLessThan(0.22);
    // The gate's training counts are those of the window (before sampling), the holdout is read whole.
    expect(sampled.trained.rows).toBe(full.trained.rows);
    expect(sampled.trained.clicks).toBe(full.trained.clicks);
    expect(sampled.evaluation.rows).toBe(full.evaluation.rows);
    expect(sampled.evaluation.clicks).toBe(full.evaluation.clicks);
    // The artifact carries the rate; the scorer's ln(rate) offset re-calibrates: predictions stay
    // calibrated on the real holdout, where the same weights without it would over-predict by ~1/rate.
    expect(sampled.shipped.scorer.artifact.negativeSamplingRate).toBe(0.2);
    const calibration = sampled.evaluation.candidate.metrics.calibration;
    expect(calibration).toBeGreaterThan(0.8);
    expect(calibration).toBeLessThan(1.25);
    const { negativeSamplingRate: _rate, ...artifact } = sampled.shipped.scorer.artifact;
    const uncalibrated = await evaluateOnHoldout(
      sampled.split.holdout,
      createScorer({ ...artifact, negativeSamplingRate: 1 }),
      null,
      silentLogger(),
    );
    expect(uncalibrated.candidate.metrics.calibration).toBeGreaterThan(2.5);
    // The model is about as good as the one trained on every row.
    expect(sampled.evaluation.candidate.metrics.auc).toBeGreaterThan(full.evaluation.candidate.metrics.auc - 0.02);
  }, 180_000);

  it('keeps the same rows on every read (reproducible runs)', async () => {
    const config = loadTrainerConfig(trainerEnv(schema, 'unused', { TRAIN_NEGATIVE_SAMPLING_RATE: '0.3' }));
    const split = await loadWindow(config, pool, silentLogger(), windowBounds(config.window));
    const ids = async () => {
      const out: string[] = [];
      for await (const batch of split.train.read().batches()) out.push(...batch.ids);
      return out;
    };
    const first = await ids();
    expect(await ids()).toEqual(first);
    expect(first.length).toBeLessThan(split.train.rows * 0.4);
  }, 120_000);
});
