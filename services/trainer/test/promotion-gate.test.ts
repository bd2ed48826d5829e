import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { decidePromotion, type GateInput } from '../src/promotion-gate.js';

const thresholds = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m' }).gate;
const good: GateInput = {
  training: { rows: 100_000, clicks: 3_000 },
  holdout: { rows: 20_000, clicks: 620 },
  candidate: { logloss: 0.12, auc: 0.72, ne: 0.9, calibration: 1.02 },
  champion: null,
  thresholds,
};

describe('decidePromotion', () => {
  it('passes good metrics without a champion and lists every check', () => {
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
    expect(auc).toMatchObject({ value: 0.72, threshold: 0.6, comparator: '>=', outcome: 'PASS' });
    expect(d.championVersion).toBeNull();
  });

  it('fails each threshold on its own, with a reason naming it', () => {
    const cases: [Partial<GateInput>, string][] = [
      [{ training: { rows: 10, clicks: 1 } }, 'train_rows'],
      [{ training: { rows: 100_000, clicks: 5 } }, 'train_clicks'],
      [{ holdout: { rows: 100, clicks: 3 } }, 'holdout_rows'],
      [{ holdout: { rows: 20_000, clicks: 10 } }, 'holdout_clicks'],
      [{ holdout: { rows: 20_000, clicks: 1_000 } }, 'base_rate_shift'],
      [{ candidate: { ...good.candidate, auc: 0.5 } }, 'auc'],
      [{ candidate: { ...good.candidate, ne: 1.01 } }, 'ne'],
      [{ candidate: { ...good.candidate, calibration: 1.5 } }, 'calibration'],
      [{ candidate: { ...good.candidate, calibration: 0.5 } }, 'calibration'],
      [{ candidate: { ...good.candidate, auc: Number.NaN } }, 'auc'],
    ];
    for (const [patch, name] of cases) {
      const d = decidePromotion({ ...good, ...patch });
      expect(d.outcome, name).toBe('FAIL');
      expect(d.checks.filter((c) => c.outcome === 'FAIL').map((c) => c.name)).toContain(name);
      expect(d.reasons.some((r) => r.startsWith(name))).toBe(true);
    }
  });

  it('compares with the champion on logloss and AUC within delta', () => {
    const champion = { version: '3', logloss: 0.119, auc: 0.724, ne: 0.89, calibration: 1 };
    const within = decidePromotion({ ...good, champion });
    expect(within.outcome).toBe('PASS');
    expect(within.championVersion).toBe('3');
    const ll = within.checks.find((c) => c.name === 'logloss_vs_champion');
    expect(ll?.value).toBeCloseTo(0.001, 10);
    expect(ll?.outcome).toBe('PASS');

    const worseLogloss = decidePromotion({ ...good, champion: { ...champion, logloss: 0.1 } });
    expect(worseLogloss.outcome).toBe('FAIL');
    expect(worseLogloss.reasons).toHaveLength(1);
    expect(worseLogloss.reasons[0]).toMatch(/^logloss_vs_champion/);

    const worseAuc = decidePromotion({ ...good, champion: { ...champion, auc: 0.8 } });
    expect(worseAuc.checks.find((c) => c.name === 'auc_vs_champion')?.outcome).toBe('FAIL');
  });

  it('fails the base-rate check when training has no clicks to compare with', () => {
    const d = decidePromotion({ ...good, training: { rows: 100_000, clicks: 0 } });
    expect(d.checks.find((c) => c.name === 'base_rate_shift')?.outcome).toBe('FAIL');
  });
});
