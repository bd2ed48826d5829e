import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import {
  FeaturizedBatchBuilder,
  type TrainProgress,
  type TrainResult,
  trainOnBatchUntil,
  trainOnBatchWithProgress,
} from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

const builder = new FeaturizedBatchBuilder(createFeaturizer(defaultFeatureSpec));
for (const row of syntheticRows({ rows: 30_000, seed: 17 })) builder.add(row);
const batch = builder.build();
const options = { hashBits: defaultFeatureSpec.hashBits, missingRate: 0.02, rareRate: 0.02, alpha: 0.05, passes: 3 };
const hooks = (reports: TrainProgress[]) => ({
  progressEveryRows: 8_000,
  onProgress: (p: TrainProgress) => void reports.push(p),
});

function same(a: TrainResult, b: TrainResult): void {
  expect(Buffer.from(a.ftrl.weights().buffer).equals(Buffer.from(b.ftrl.weights().buffer))).toBe(true);
  expect(a.ftrl.bias()).toBe(b.ftrl.bias());
  expect(a.options.passes).toBe(b.options.passes);
  expect(a.passes).toEqual(b.passes);
}

/** A promise of `n` resolved after `turns` turns of the event loop (the fit gives one per held report). */
function answerAfter(n: number, turns: number): Promise<number> {
  return new Promise((resolve) => {
    let left = turns;
    const tick = () => (left-- <= 0 ? resolve(n) : setImmediate(tick));
    tick();
  });
}

describe('trainOnBatchUntil: the passes chosen while training goes on', () => {
  it.each([
    [1, 0],
    [1, 9],
    [2, 2],
    [2, 12],
    [3, 5],
  ])('%i passes, known after %i turns: the %i-pass model bit for bit, its reports only', async (n, after) => {
    const wantReports: TrainProgress[] = [];
    const want = await trainOnBatchWithProgress(batch, { ...options, passes: n }, hooks(wantReports));
    const reports: TrainProgress[] = [];
    const got = await trainOnBatchUntil(batch, options, answerAfter(n, after), hooks(reports));
    same(got, want);
    const strip = (p: TrainProgress) => ({ ...p, passElapsedMs: 0, elapsedMs: 0 });
    expect(reports.map(strip)).toEqual(wantReports.map(strip));
  });

  it('throws when the passes cannot be had', async () => {
    await expect(trainOnBatchUntil(batch, options, Promise.reject(new Error('search failed')))).rejects.toThrow(
      'search failed',
    );
    await expect(trainOnBatchUntil(batch, options, Promise.resolve(4))).rejects.toMatchObject({
      code: 'LEARN_OPTIONS_INVALID',
    });
  });
});
