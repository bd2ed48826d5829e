import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { decidePromotion, type GateInput, type GateMetrics } from '../src/promotion-gate.js';

const thresholds = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m' }).gate;
const est = (value: number, se: number) => ({ value, se });
const metrics: GateMetrics = {
  logloss: est(0.12, 0.002),
  auc: est(0.72, 0.01),
  ne: est(0.9, 0.01),
  calibration: est(1.02, 0.04),
};
const good: GateInput = {
  training: { rows: 100_000, clicks: 3_000 },
  holdout: { rows: 20_000, clicks: 620 },
  candidate: metrics,
  champion: null,
  thresholds,
};
const withCandidate = (patch: Partial<GateMetrics>): GateInput => ({ ...good, candidate: { ...metrics, ...patch } });

describe('decidePromotion', () => {
  it('passes good metrics without a champion and lists every check with its standard error', () => {
    const d = decidePromotion(good);
    expect(d.outcome).toBe('PASS');
    expect(d.checks.map((c) => c.name)).toEqual([
      'train_rows',
      'train_clicks',
      'holdout_rows',
      'holdout_clicks',
      'base_rate_shift',
      'auc',
      'ne',
      'calibration',
      'logloss_vs_champion',
      'auc_vs_champion',
    ]);
    expect(d.checks.filter((c) => c.outcome === 'SKIPPED').map((c) => c.name)).toEqual([
      'logloss_vs_champion',
      'auc_vs_champion',
    ]);
    expect(d.reasons).toEqual(['all 8 checks passed']);
    const auc = d.checks.find((c) => c.name === 'auc');
    expect(auc).toMatchObject({ value: 0.72, standardError: 0.01, threshold: 0.6, comparator: '>=', outcome: 'PASS' });
    expect(d.championVersion).toBeNull();
    for (const name of ['train_rows', 'train_clicks', 'holdout_rows', 'holdout_clicks']) {
      expect(d.checks.find((c) => c.name === name)?.protects, name).toMatch(/.{20}/);
    }
  });

  it('fails each threshold on its own, with a reason naming it', () => {
    const cases: [GateInput, string][] = [
      [{ ...good, training: { rows: 10, clicks: 1 } }, 'train_rows'],
      [{ ...good, training: { rows: 100_000, clicks: 5 } }, 'train_clicks'],
      [{ ...good, holdout: { rows: 100, clicks: 3 } }, 'holdout_rows'],
      [{ ...good, holdout: { rows: 20_000, clicks: 10 } }, 'holdout_clicks'],
      [{ ...good, holdout: { rows: 20_000, clicks: 1_000 } }, 'base_rate_shift'],
      [withCandidate({ auc: est(0.55, 0.01) }), 'auc'],
      [withCandidate({ auc: est(Number.NaN, Number.NaN) }), 'auc'],
      [withCandidate({ ne: est(1.01, 0.01) }), 'ne'],
      [withCandidate({ calibration: est(1.5, 0.04) }), 'calibration'],
      [withCandidate({ calibration: est(0.5, 0.04) }), 'calibration'],
    ];
    for (const [input, name] of cases) {
      const d = decidePromotion(input);
      expect(d.outcome, name).toBe('FAIL');
      expect(d.checks.filter((c) => c.outcome === 'FAIL').map((c) => c.name)).toContain(name);
      expect(d.reasons.some((r) => r.startsWith(name))).toBe(true);
    }
  });

  it('says what a failed minimum-size check protects', () => {
    const d = decidePromotion({ ...good, holdout: { rows: 20_000, clicks: 10 } });
    expect(d.reasons.find((r) => r.startsWith('holdout_clicks'))).toMatch(/precision of every holdout metric/);
  });

  it('asks for skill beyond chance: AUC above 0.5 + 2 SE and NE below 1 − 2 SE', () => {
    // A point AUC over GATE_MIN_AUC is not enough when the holdout cannot tell it from 0.5.
    const noisyAuc = decidePromotion(withCandidate({ auc: est(0.62, 0.08) }));
    expect(noisyAuc.checks.find((c) => c.name === 'auc')).toMatchObject({ threshold: 0.66, outcome: 'FAIL' });
    expect(noisyAuc.reasons[0]).toMatch(/max\(GATE_MIN_AUC, 0.5 \+ 2 SE\) = 0.66/);
    const noisyNe = decidePromotion(withCandidate({ ne: est(0.95, 0.04) }));
    expect(noisyNe.checks.find((c) => c.name === 'ne')).toMatchObject({ threshold: 0.92, outcome: 'FAIL' });
    expect(decidePromotion(withCandidate({ ne: est(0.95, 0.01) })).outcome).toBe('PASS');
  });

  it('fails calibration and base-rate shift only when they are out of bounds by more than 2 SE', () => {
    const unsure = decidePromotion(withCandidate({ calibration: est(1.3, 0.1) }));
    expect(unsure.checks.find((c) => c.name === 'calibration')).toMatchObject({ outcome: 'PASS' });
    expect(unsure.checks.find((c) => c.name === 'calibration')?.threshold).toEqual([
      expect.closeTo(0.6, 10),
      expect.closeTo(1.4, 10),
    ]);
    expect(decidePromotion(withCandidate({ calibration: est(1.3, 0.04) })).outcome).toBe('FAIL');
    // 30 % shift on 40 holdout clicks is noise; on 1 000 it is real.
    const small = decidePromotion({
      ...good,
      holdout: { rows: 20_000, clicks: 39 },
      training: { rows: 100_000, clicks: 150 },
    });
    expect(small.checks.find((c) => c.name === 'base_rate_shift')?.outcome).toBe('PASS');
    const large = decidePromotion({ ...good, holdout: { rows: 20_000, clicks: 1_560 } });
    expect(large.checks.find((c) => c.name === 'base_rate_shift')?.outcome).toBe('FAIL');
  });

  it('compares with the champion on the same rows: worse by more than max(δ, 2 SE) fails', () => {
    const champion = (logloss: [number, number], auc: [number, number]) => ({
      version: '3',
      metrics,
      difference: { logloss: est(...logloss), auc: est(...auc) },
    });
    const within = decidePromotion({ ...good, champion: champion([0.001, 0.0004], [-0.004, 0.002]) });
    expect(within.outcome).toBe('PASS');
    expect(within.championVersion).toBe('3');
    const ll = within.checks.find((c) => c.name === 'logloss_vs_champion');
    // δ is relative: 1 % of the champion's logloss (0.12) = 0.0012.
    expect(ll).toMatchObject({ value: 0.001, standardError: 0.0004, outcome: 'PASS' });
    expect(ll?.threshold).toBeCloseTo(0.0012, 12);

    const worseLogloss = decidePromotion({ ...good, champion: champion([0.003, 0.0004], [0, 0.002]) });
    expect(worseLogloss.outcome).toBe('FAIL');
    expect(worseLogloss.reasons).toHaveLength(1);
    expect(worseLogloss.reasons[0]).toMatch(/^logloss_vs_champion/);

    // The same difference measured on a noisy holdout is within 2 SE: not evidence that it is worse.
    const noisy = decidePromotion({ ...good, champion: champion([0.003, 0.002], [-0.02, 0.015]) });
    expect(noisy.outcome).toBe('PASS');
    expect(noisy.checks.find((c) => c.name === 'logloss_vs_champion')?.threshold).toBeCloseTo(0.004, 12);

    // At a low base rate logloss is small, and so is the increase allowed: the same +0.001 is 7 % of 0.015.
    const lowRate = decidePromotion({
      ...good,
      champion: { ...champion([0.001, 0.00005], [0, 0.002]), metrics: { ...metrics, logloss: est(0.015, 0.001) } },
    });
    expect(lowRate.checks.find((c) => c.name === 'logloss_vs_champion')).toMatchObject({ outcome: 'FAIL' });
    expect(lowRate.checks.find((c) => c.name === 'logloss_vs_champion')?.threshold).toBeCloseTo(0.00015, 12);

    const worseAuc = decidePromotion({ ...good, champion: champion([0, 0.0004], [-0.02, 0.005]) });
    expect(worseAuc.checks.find((c) => c.name === 'auc_vs_champion')).toMatchObject({
      value: 0.02,
      threshold: 0.01,
      outcome: 'FAIL',
    });
  });

  it('fails the base-rate check when training has no clicks to compare with', () => {
    const d = decidePromotion({ ...good, training: { rows: 100_000, clicks: 0 } });
    expect(d.checks.find((c) => c.name === 'base_rate_shift')?.outcome).toBe('FAIL');
  });
});
