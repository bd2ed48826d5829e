import { describe, expect, it } from 'vitest';
import { loadTrainerConfig } from '../src/config.js';
import { gateSummaryMarkdown } from '../src/gate-summary.js';
import { decidePromotion } from '../src/promotion-gate.js';

const thresholds = loadTrainerConfig({
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
  MLFLOW_TRACKING_URI: 'http://127.0.0.1:1',
}).gate;
const candidate = { logloss: 0.1234567, auc: 0.71234, ne: 0.91, calibration: 1.02 };
type Point = typeof candidate;
const withSe = (m: Point) => ({
  logloss: { value: m.logloss, se: 0.001 },
  auc: { value: m.auc, se: 0.01 },
  ne: { value: m.ne, se: 0.01 },
  calibration: { value: m.calibration, se: 0.04 },
});

function summary(champion: ({ version: string } & Point) | null) {
  const decision = decidePromotion({
    training: { rows: 80_000, clicks: 2_400 },
    holdout: { rows: 20_000, clicks: 610 },
    candidate: withSe(candidate),
    champion: champion
      ? {
          version: champion.version,
          metrics: withSe(champion),
          difference: {
            logloss: { value: candidate.logloss - champion.logloss, se: 0.0005 },
            auc: { value: candidate.auc - champion.auc, se: 0.004 },
          },
        }
      : null,
    thresholds,
  });
  return gateSummaryMarkdown({
    modelName: 'fallback-ctr',
    runId: 'abc123',
    window: { from: '2026-11-27T00:00:00.000Z', to: '2026-11-29T00:00:00.000Z' },
    training: { rows: 80_000, clicks: 2_400 },
    holdout: { rows: 20_000, clicks: 610 },
    candidate,
    champion: champion ? { ...champion } : null,
    decision,
  });
}

describe('gateSummaryMarkdown', () => {
  it('opens with the outcome and the failed checks, before the table of every check', () => {
    const md = summary({ version: '3', logloss: 0.11, auc: 0.75, ne: 0.88, calibration: 1 });
    const lines = md.split('\n');
    expect(lines[0]).toBe('### Gate FAIL — fallback-ctr');
    expect(lines[2]).toMatch(/^\*\*Outcome: FAIL\*\* — 2 checks failed/);
    const firstFailure = lines.findIndex((l) => l.startsWith('- logloss_vs_champion'));
    const table = lines.findIndex((l) => l.startsWith('| check |'));
    expect(firstFailure).toBeGreaterThan(0);
    expect(firstFailure).toBeLessThan(table);
    expect(md).toContain('| logloss | 0.123457 | 0.110000 | lower |');
    expect(md).toContain('champion v3');
    expect(md).toContain('| auc_vs_champion | 0.03766 ± 0.004 | ≤ 0.008 (max(GATE_MAX_AUC_DROP, 2 SE)) | **FAIL** |');
    expect(md).toContain('Training: 80,000 impressions, 2,400 clicks (CTR 3.00 %)');
  });

  it('says PASS and lists skipped champion checks when there is no champion', () => {
    const md = summary(null);
    expect(md.split('\n')[2]).toMatch(/^\*\*Outcome: PASS\*\*/);
    expect(md).toContain('skipped (no champion)');
    expect(md).toContain('no champion yet');
    expect(md).not.toContain('NaN');
  });
});
