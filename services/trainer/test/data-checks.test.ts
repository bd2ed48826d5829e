import type { WindowProfile } from '@fallback-ctr/clicklog';
import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { checkWindowData } from '../src/data-checks.js';

const thresholds = loadTrainerConfig({ DATABASE_URL: 'x', MLFLOW_TRACKING_URI: 'http://m' }).dataChecks;
const window = {
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-01-08T00:00:00Z'),
  attributionWindowMinutes: 60,
  holdoutHours: 24,
};
const fields = [
  { name: 'ad_id', source: 'column' as const },
  { name: 'site', source: 'context' as const },
];

function profile(patch: Partial<WindowProfile> = {}): WindowProfile {
  return {
    now: new Date('2026-01-08T01:00:00Z'),
    labelCutoff: new Date('2026-01-08T00:00:00Z'),
    table: { firstServedAt: new Date('2025-12-01T00:00:00Z'), lastServedAt: new Date('2026-01-07T23:59:00Z') },
    window: { rows: 100_000, clicks: 200 },
    train: { rows: 86_000, clicks: 170 },
    holdout: { rows: 14_000, clicks: 30 },
    pendingRows: 0,
    lateClicks: 4,
    clickDelaySeconds: { p50: 30, p90: 300, p99: 2_400 },
    lateClickDelaySeconds: { p50: 5_000, p90: 9_000, p99: 10_000 },
    fields: [
      { name: 'ad_id', source: 'column', present: 100_000 },
      { name: 'site', source: 'context', present: 99_000 },
    ],
    ...patch,
  };
}

const check = (p: WindowProfile, split = true) => checkWindowData({ profile: p, fields, thresholds, window, split });

describe('checkWindowData', () => {
  it('passes a healthy window and turns the profile into finite run metrics', () => {
    const r = check(profile());
    expect(r.outcome).toBe('PASS');
    expect(r.warnings).toEqual([]);
    expect(r.metrics).toMatchObject({
      data_rows: 100_000,
      data_clicks: 200,
      data_train_clicks: 170,
      data_holdout_clicks: 30,
      late_clicks: 4,
      late_click_share: 4 / 204,
      click_delay_p99_minutes: 40,
      'coverage.ad_id': 1,
      'coverage.site': 0.99,
    });
    for (const [key, value] of Object.entries(r.metrics)) expect(Number.isFinite(value), key).toBe(true);
  });

  it('fails on fields absent from the data, naming each with its coverage', () => {
    const r = check(
      profile({
        fields: [
          { name: 'ad_id', source: 'column', present: 0 },
          { name: 'site', source: 'context', present: 500 },
        ],
      }),
    );
    expect(r.outcome).toBe('FAIL');
    if (r.outcome !== 'FAIL') return;
    expect(r.failedFields.map((f) => [f.name, f.coverage])).toEqual([
      ['ad_id', 0],
      ['site', 0.005],
    ]);
    expect(r.reason).toMatch(/DATA_MIN_FIELD_COVERAGE = 1.00 %/);
    expect(r.reason).toMatch(/ad_id \(column\) 0.00 %, site \(context\) 0.50 %/);
    expect(r.reason).toMatch(/FEATURE_SPEC/);
    // Exactly at the threshold is enough.
    const edge = profile({
      fields: [...profile().fields.slice(0, 1), { name: 'site', source: 'context', present: 1_000 }],
    });
    expect(check(edge).outcome).toBe('PASS');
  });

  it('skips an empty window and says where the data is and what to set', () => {
    const r = check(profile({ window: { rows: 0, clicks: 0 }, train: null, holdout: null, pendingRows: 0 }), false);
    expect(r.outcome).toBe('SKIP');
    if (r.outcome !== 'SKIP') return;
    expect(r.reason).toContain('served from 2025-12-01T00:00:00.000Z to 2026-01-07T23:59:00.000Z');
    expect(r.reason).toContain('TRAIN_WINDOW_END=2026-01-08T00:00:00Z');
    expect(r.metrics).toMatchObject({ data_rows: 0, data_clicks: 0, data_pending_rows: 0 });
    expect(Object.keys(r.metrics).filter((k) => k.startsWith('coverage.'))).toEqual([]);
  });

  it('says the table is empty when it is, and counts impressions still inside the label delay', () => {
    const empty = check(
      profile({ window: { rows: 0, clicks: 0 }, table: { firstServedAt: null, lastServedAt: null }, lateClicks: 0 }),
      false,
    );
    expect(empty.outcome === 'SKIP' && empty.reason).toMatch(/impressions table is empty: load click logs first/);
    const young = check(profile({ window: { rows: 0, clicks: 0 }, pendingRows: 120 }), false);
    expect(young.outcome === 'SKIP' && young.reason).toMatch(
      /120 impressions of the window are younger than ATTRIBUTION_WINDOW_MINUTES = 60/,
    );
  });

  it('skips when one part of the split is empty, too few rows, or no clicks, and says why', () => {
    const oneSided = check(profile({ train: null, holdout: null }), false);
    expect(oneSided.outcome === 'SKIP' && oneSided.reason).toMatch(
      /training part or the holdout \(its last HOLDOUT_HOURS = 24 h\) has none/,
    );
    const few = check(profile({ window: { rows: 500, clicks: 5 } }));
    expect(few.outcome === 'SKIP' && few.reason).toMatch(/only 500 labelled impressions .* \(DATA_MIN_ROWS = 1,000\)/);
    const noHoldoutClicks = check(profile({ holdout: { rows: 14_000, clicks: 0 } }));
    expect(noHoldoutClicks.outcome === 'SKIP' && noHoldoutClicks.reason).toMatch(/^no clicks in the holdout/);
  });

  it('skips when every click came late, naming ATTRIBUTION_WINDOW_MINUTES and a value that would count them', () => {
    const r = check(
      profile({
        window: { rows: 100_000, clicks: 0 },
        train: { rows: 86_000, clicks: 0 },
        holdout: { rows: 14_000, clicks: 0 },
        lateClicks: 300,
        clickDelaySeconds: { p50: 7_200, p90: 20_000, p99: 30_000 },
        lateClickDelaySeconds: { p50: 7_200, p90: 20_000, p99: 30_000 },
      }),
    );
    expect(r.outcome).toBe('SKIP');
    if (r.outcome !== 'SKIP') return;
    expect(r.reason).toMatch(/^no clicks in the training part/);
    expect(r.reason).toMatch(/300 clicked impressions got their first click after the 60-minute attribution window/);
    expect(r.reason).toMatch(/median 2.0 h, p90 5.6 h/);
    expect(r.reason).toMatch(/ATTRIBUTION_WINDOW_MINUTES=500 would count 99 %/);
    expect(r.metrics.late_click_share).toBe(1);
    expect(r.warnings[0]).toMatch(/^100.0 % of clicked impressions were clicked late/);
  });

  it('warns above DATA_MAX_LATE_CLICK_SHARE of late clicks, and not below', () => {
    const r = check(profile({ lateClicks: 20 }));
    expect(r.outcome).toBe('PASS');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(
      /^9.09 % of clicked impressions were clicked late \(above DATA_MAX_LATE_CLICK_SHARE = 5.00 %\)/,
    );
    expect(r.warnings[0]).toMatch(/raise ATTRIBUTION_WINDOW_MINUTES/);
    expect(check(profile({ lateClicks: 10 })).warnings).toEqual([]);
  });
});
