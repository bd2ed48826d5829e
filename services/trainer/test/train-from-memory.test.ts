import type { SplitPart } from '@fallback-ctr/clicklog';
import { baseRateLogOdds } from '@fallback-ctr/learn';
import { defaultFeatureSpec } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { loadWindow, windowBounds } from '../src/pipeline/load-window.js';
import { shipCandidate, type TrainedCandidate, trainCandidate } from '../src/pipeline/train-candidate.js';
import { readTrainingRows } from '../src/pipeline/training-rows.js';
import { trainerEnv } from './support/e2e.js';
import { useSeededSchema } from './support/seeded-schema.js';

const { schema, pool } = useSeededSchema('train_memory');

describe('the train stage on the rows the search read into memory', () => {
  const config = loadTrainerConfig(
    trainerEnv(schema, 'unused', { TRAIN_MIN_VALUE_COUNT: '5', TRAIN_RARE_RATE: '0.02', TRAIN_PASSES: '2' }),
  );
  const logger = silentLogger();
  const options = {
    featureSpec: defaultFeatureSpec,
    ftrl: config.ftrl,
    passes: 2,
    progressIntervalMs: 60_000,
    progressEveryRows: 4_096,
    logger,
  };
  const at = new Date('2026-11-30T00:00:00Z');
  let reads = 0;
  let train: Pick<SplitPart, 'read' | 'rows'>;
  let streamed: TrainedCandidate;

  beforeAll(async () => {
    const split = await loadWindow(config, pool, logger, windowBounds(config.window));
    train = {
      rows: split.train.rows,
      read: (...args: Parameters<SplitPart['read']>) => {
        reads++;
        return split.train.read(...args);
      },
    };
    reads = 0;
    streamed = await trainCandidate(train, options);
    // One read counts the values, one per pass trains.
    expect(reads).toBe(3);
  }, 180_000);

  it('starts the bias at the base rate of the training part (counted in the counting pass; the holdout is not read)', () => {
    expect(streamed.clicks).toBeGreaterThan(0);
    expect(streamed.result.ftrl.options.initialBias).toBeCloseTo(baseRateLogOdds(streamed.clicks, streamed.rows), 12);
    expect(streamed.result.ftrl.options.initialBias).toBeLessThan(-2);
  });

  it('gives the very model the streamed fit gives (vocabulary, per-value rare draws, 2 passes), reading the click log once', async () => {
    reads = 0;
    const rows = await readTrainingRows(train, { ...options, maxRows: train.rows });
    expect(rows.complete).toBe(true);
    expect(rows.batch.rows).toBe(train.rows);
    const passes: number[] = [];
    const inMemory = await trainCandidate(train, {
      ...options,
      rows,
      onProgress: (p) => {
        if (p.passDone) passes.push(p.pass);
      },
    });
    expect(reads).toBe(1);
    expect(passes).toEqual([1, 2]);
    expect(inMemory.rows).toBe(streamed.rows);
    expect(inMemory.clicks).toBe(streamed.clicks);
    expect(inMemory.result.passes).toEqual(streamed.result.passes);
    const a = shipCandidate(streamed, defaultFeatureSpec, at, 'run');
    const b = shipCandidate(inMemory, defaultFeatureSpec, at, 'run');
    expect(b.serialized.sha256).toBe(a.serialized.sha256);
    expect(a.scorer.artifact.vocabulary?.minCount).toBe(5);
  }, 180_000);

  it('above TRAIN_MAX_ROWS_IN_MEMORY holds only the most recent rows, and the refit streams to the same model without a counting pass', async () => {
    reads = 0;
    const whole = await readTrainingRows(train, { ...options, maxRows: train.rows });
    const maxRows = Math.floor(train.rows / 3);
    const tail = await readTrainingRows(train, { ...options, maxRows });
    expect(reads).toBe(2);
    expect(tail.complete).toBe(false);
    expect(tail.batch.rows).toBe(maxRows);
    // The most recent rows, featurised with the vocabulary of the whole part.
    expect(tail.counts?.vocabulary).toEqual(whole.counts?.vocabulary);
    const from = train.rows - maxRows;
    expect(Array.from(tail.batch.labels)).toEqual(Array.from(whole.batch.labels.subarray(from)));
    expect(Array.from(tail.batch.indices)).toEqual(Array.from(whole.batch.indices.subarray(from * whole.batch.width)));
    reads = 0;
    const refit = await trainCandidate(train, { ...options, rows: tail });
    // One read per pass: the values were counted while the search's read streamed by.
    expect(reads).toBe(2);
    const a = shipCandidate(streamed, defaultFeatureSpec, at, 'run');
    expect(shipCandidate(refit, defaultFeatureSpec, at, 'run').serialized.sha256).toBe(a.serialized.sha256);
  }, 180_000);
});
