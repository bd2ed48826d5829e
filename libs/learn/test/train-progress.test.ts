import { createFeaturizer, defaultFeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { type TrainProgress, trainOnRows } from '../src/index.js';
import { syntheticRows } from './support/synthetic.js';

const rows = [...syntheticRows({ rows: 50_000, seed: 9 })];
const featurizer = createFeaturizer(defaultFeatureSpec);

describe('training progress', () => {
  it('reports after about every N rows as well as by time, so a short run has a learning curve', async () => {
    const reports: TrainProgress[] = [];
    await trainOnRows(
      rows,
      featurizer,
      { hashBits: defaultFeatureSpec.hashBits },
      // A clock interval far longer than the run: every report but the last comes from the row count.
      { progressIntervalMs: 3_600_000, progressEveryRows: 10_000, onProgress: (p) => void reports.push(p) },
    );
    const during = reports.filter((p) => !p.passDone).map((p) => p.rows);
    expect(during).toEqual([12_288, 24_576, 36_864, 49_152]); // the first multiple of 4,096 past each 10,000
    expect(reports.at(-1)).toMatchObject({ passDone: true, rows: 50_000 });
    for (const p of reports) expect(Number.isFinite(p.progressiveLogloss)).toBe(true);
  });

  it('reports only at the end of a pass when neither the clock nor the row count asks earlier', async () => {
    const reports: TrainProgress[] = [];
    await trainOnRows(
      rows,
      featurizer,
      { hashBits: defaultFeatureSpec.hashBits },
      {
        progressIntervalMs: 3_600_000,
        onProgress: (p) => void reports.push(p),
      },
    );
    expect(reports.map((p) => p.passDone)).toEqual([true]);
  });
});
