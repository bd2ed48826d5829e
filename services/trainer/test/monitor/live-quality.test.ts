import { metricEstimates } from '@fallback-ctr/learn';
import { describe, expect, it } from 'vitest';
import { type LabelledScore, liveQuality } from '../../src/monitor/live-quality.js';
import { psi } from '../../src/monitor/psi.js';

const at = (h: number, m = 0) => new Date(Date.UTC(2026, 2, 1, h, m));

describe('liveQuality', () => {
  const rows: LabelledScore[] = [
    { modelVersion: '2', score: 0.1, scoredAt: at(1, 5), clicked: 1 },
    { modelVersion: '2', score: 0.2, scoredAt: at(1, 50), clicked: 0 },
    { modelVersion: '2', score: 0.3, scoredAt: at(2, 1), clicked: 1 },
    { modelVersion: '10', score: 0.4, scoredAt: at(1, 2), clicked: 0 },
    { modelVersion: '2', score: 0.05, scoredAt: at(2, 59), clicked: 0 },
  ];

  it('groups by version and UTC hour, numeric versions in order, and sums impressions, clicks and Σp', () => {
    const { hourly, overall } = liveQuality(rows, { minClicksForAuc: 1 });
    expect(hourly.map((q) => [q.version, q.hour?.toISOString(), q.impressions, q.clicks])).toEqual([
      ['2', '2026-03-01T01:00:00.000Z', 2, 1],
      ['2', '2026-03-01T02:00:00.000Z', 2, 1],
      ['10', '2026-03-01T01:00:00.000Z', 1, 0],
    ]);
    expect(overall.map((q) => [q.version, q.hour, q.impressions, q.clicks])).toEqual([
      ['2', null, 4, 2],
      ['10', null, 1, 0],
    ]);
    expect(overall[0]?.sumPredicted).toBeCloseTo(0.65, 12);
  });

  it('reports the gate’s estimators (Σp/Σy, logloss, AUC with standard errors) and no AUC below the click minimum', () => {
    const { overall } = liveQuality(rows, { minClicksForAuc: 1 });
    const v2 = rows.filter((r) => r.modelVersion === '2');
    const expected = metricEstimates(
      v2.map((r) => r.score),
      v2.map((r) => r.clicked),
    );
    expect(overall[0]?.calibration).toEqual(expected.calibration);
    expect(overall[0]?.calibration.value).toBeCloseTo(0.65 / 2, 12);
    expect(overall[0]?.logloss).toEqual(expected.logloss);
    expect(overall[0]?.auc).toEqual(expected.auc);
    expect(liveQuality(rows, { minClicksForAuc: 3 }).overall[0]?.auc.value).toBeNaN();
  });
});

describe('psi', () => {
  it('is 0 for the same shares and grows with the shift', () => {
    const a = new Map<string | null, number>([
      ['mobile', 600],
      ['desktop', 300],
      ['tablet', 100],
    ]);
    const same = new Map<string | null, number>([
      ['mobile', 60],
      ['desktop', 30],
      ['tablet', 10],
    ]);
    const moved = new Map<string | null, number>([
      ['mobile', 85],
      ['desktop', 12],
      ['tablet', 3],
    ]);
    expect(psi(a, same)).toBeCloseTo(0, 12);
    // Σ (a − e) ln(a / e) by hand.
    const byHand =
      (0.85 - 0.6) * Math.log(0.85 / 0.6) + (0.12 - 0.3) * Math.log(0.12 / 0.3) + (0.03 - 0.1) * Math.log(0.03 / 0.1);
    expect(psi(a, moved)).toBeCloseTo(byHand, 12);
  });

  it('puts values outside the reference’s top values in "other", and missing ones apart', () => {
    const reference = new Map<string | null, number>([
      ['a', 50],
      ['b', 30],
      ['c', 20],
    ]);
    const recent = new Map<string | null, number>([
      ['a', 50],
      ['x', 30],
      [null, 20],
    ]);
    // top 2: a, b; other: c (0.2) vs x (0.3); missing: 0 vs 0.2.
    const e = { a: 0.5, b: 0.3, other: 0.2, missing: 1e-4 };
    const r = { a: 0.5, b: 1e-4, other: 0.3, missing: 0.2 };
    const expected = (Object.keys(e) as (keyof typeof e)[]).reduce(
      (sum, k) => sum + (r[k] - e[k]) * Math.log(r[k] / e[k]),
      0,
    );
    expect(psi(reference, recent, 2)).toBeCloseTo(expected, 12);
  });
});
