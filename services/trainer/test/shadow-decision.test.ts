import { createPrng } from '@fallback-ctr/learn';
import { describe, expect, it } from 'vitest';
import type { ChallengerSettings } from '../src/config.js';
import { decideShadowPromotion } from '../src/shadow-decision.js';
import { type LabelledScore, pairShadowScores, shadowEvidence } from '../src/shadow-evidence.js';

const settings: ChallengerSettings = {
  promoteVia: 'challenger',
  minHours: 12,
  windowHours: 168,
  minImpressions: 5_000,
  minClicks: 100,
  maxLoglossIncrease: 0,
  calibrationTolerance: 0.05,
  annotationKey: 'fallback-ctr.io/challenger-version',
};

/**
 * A live log over `hours`: the true CTR of each impression, the champion's served score and the
 * challenger's shadow score as functions of it, and a click drawn from the truth.
 */
function liveLog(options: {
  n: number;
  hours: number;
  champion: (truth: number) => number;
  challenger: (truth: number) => number;
  seed?: number;
}): LabelledScore[] {
  const random = createPrng(options.seed ?? 1);
  const start = Date.parse('2026-11-20T00:00:00Z');
  const rows: LabelledScore[] = [];
  for (let i = 0; i < options.n; i++) {
    const truth = 0.01 + 0.08 * random() ** 2;
    const clicked = random() < truth ? 1 : 0;
    const scoredAt = new Date(start + (i / options.n) * options.hours * 3_600_000);
    const id = `imp-${i}`;
    rows.push({
      impressionId: id,
      modelVersion: '1',
      role: 'served',
      score: options.champion(truth),
      scoredAt,
      clicked,
    });
    rows.push({
      impressionId: id,
      modelVersion: '2',
      role: 'shadow',
      score: options.challenger(truth),
      scoredAt,
      clicked,
    });
  }
  return rows;
}

const versions = { champion: '1', challenger: '2' };
const decide = (rows: LabelledScore[], s = settings) =>
  decideShadowPromotion(shadowEvidence(pairShadowScores(rows, versions), versions), s);
/** Knows only the average CTR: calibrated on the whole, no ranking. */
const flat = () => 0.037;
const exact = (t: number) => t;

describe('decideShadowPromotion on paired live scores', () => {
  it('promotes a challenger that ranks better than the champion', () => {
    const decision = decide(liveLog({ n: 40_000, hours: 24, champion: flat, challenger: exact }));
    expect(decision.outcome).toBe('PROMOTE');
    expect(decision.checks.every((c) => c.outcome === 'PASS')).toBe(true);
  });

  it('refuses a challenger that is worse (the champion is the exact one), naming the logloss check', () => {
    const decision = decide(liveLog({ n: 40_000, hours: 24, champion: exact, challenger: flat }));
    expect(decision.outcome).toBe('REFUSE');
    expect(decision.reasons.join()).toMatch(/live_logloss_vs_champion/);
  });

  it('refuses a challenger that ranks as well but over-predicts by 40 %', () => {
    const decision = decide(liveLog({ n: 40_000, hours: 24, champion: exact, challenger: (t) => 1.4 * t }));
    expect(decision.outcome).toBe('REFUSE');
    const failed = decision.checks.filter((c) => c.outcome === 'FAIL').map((c) => c.name);
    expect(failed).toContain('live_calibration_gap_vs_champion');
  });

  it('promotes an equal challenger: within noise is "no worse"', () => {
    const decision = decide(liveLog({ n: 40_000, hours: 24, champion: exact, challenger: (t) => t * 1.0001 }));
    expect(decision.outcome).toBe('PROMOTE');
  });

  it('waits while there are too few hours, impressions or clicks, whatever the scores say', () => {
    const short = decide(liveLog({ n: 40_000, hours: 6, champion: exact, challenger: flat }));
    expect(short.outcome).toBe('WAIT');
    expect(short.reasons.join()).toMatch(/shadow_hours/);
    expect(short.checks.filter((c) => c.name.startsWith('live_')).every((c) => c.outcome === 'SKIPPED')).toBe(true);
    expect(decide(liveLog({ n: 2_000, hours: 24, champion: exact, challenger: flat })).outcome).toBe('WAIT');
    expect(decide([]).outcome).toBe('WAIT');
  });
});

describe('pairShadowScores', () => {
  it('pairs by impression id, only the champion served and the challenger shadowed, first score of a retry', () => {
    const at = new Date('2026-11-20T00:00:00Z');
    const later = new Date('2026-11-20T05:00:00Z');
    const row = (id: string, role: 'served' | 'shadow', version: string, score: number, clicked: 0 | 1 = 0) => ({
      impressionId: id,
      modelVersion: version,
      role,
      score,
      scoredAt: id === 'b' ? later : at,
      clicked,
    });
    const pairs = pairShadowScores(
      [
        row('a', 'served', '1', 0.1, 1),
        row('a', 'shadow', '2', 0.2, 1),
        row('a', 'served', '1', 0.9, 1),
        row('b', 'served', '1', 0.3),
        row('b', 'shadow', '2', 0.4),
        row('c', 'served', '1', 0.5),
        row('d', 'shadow', '2', 0.6),
        row('e', 'served', '7', 0.7),
        row('e', 'shadow', '2', 0.8),
      ],
      versions,
    );
    expect([...pairs.champion]).toEqual([0.1, 0.3]);
    expect([...pairs.challenger]).toEqual([0.2, 0.4]);
    expect([...pairs.labels]).toEqual([1, 0]);
    expect(pairs.firstAt).toEqual(at);
    expect(pairs.lastAt).toEqual(later);
  });
});
