import { z } from 'zod';
import type { ChallengerSettings } from './config.js';
import {
  bound,
  type Estimate,
  GATE_Z,
  type GateCheck,
  GateCheckSchema,
  type GateMetrics,
  type PairedDifference,
  widen,
} from './promotion-gate.js';

/** What live traffic says about the challenger beside the champion, on impressions both scored. */
export interface ShadowEvidence {
  champion: { version: string; metrics: GateMetrics };
  challenger: { version: string; metrics: GateMetrics };
  /** Challenger − champion on the same impressions (paired standard errors). */
  difference: PairedDifference;
  impressions: number;
  clicks: number;
  /** Served-at of the first and last paired impression with a final label; null when there is none. */
  firstAt: Date | null;
  lastAt: Date | null;
}

export const ShadowOutcomeSchema = z.enum(['PROMOTE', 'REFUSE', 'WAIT']);
export type ShadowOutcome = z.infer<typeof ShadowOutcomeSchema>;

export const ShadowDecisionSchema = z.object({
  /** PROMOTE: no worse; REFUSE: worse beyond noise; WAIT: not enough live evidence yet. */
  outcome: ShadowOutcomeSchema,
  reasons: z.array(z.string()),
  checks: z.array(GateCheckSchema),
});
export type ShadowDecision = z.infer<typeof ShadowDecisionSchema>;

/** |Σp/Σy − 1|: how far a model's live clicks are from what it predicted, in either direction. */
const calibrationGap = (e: Estimate): number => Math.abs(e.value - 1);

/**
 * Whether a challenger scored in shadow may replace the champion: a pure function of the paired live
 * evidence and the settings, every check a data row like the promotion gate's.
 * - Enough evidence first (hours, impressions, clicks); short of it the answer is WAIT, never REFUSE:
 *   a verdict on too little traffic would be luck.
 * - Then "no worse", with the uncertainty on the challenger's side: its logloss may exceed the
 *   champion's on the same impressions by at most max(SHADOW_MAX_LOGLOSS_INCREASE, 2 SE of the paired
 *   difference), and its calibration gap |Σp/Σy − 1| may exceed max(the champion's gap,
 *   SHADOW_CALIBRATION_TOLERANCE) by at most 2 SE of its ratio. A failure is a REFUSE.
 */
export function decideShadowPromotion(evidence: ShadowEvidence, settings: ChallengerSettings): ShadowDecision {
  const hours =
    evidence.firstAt && evidence.lastAt ? (evidence.lastAt.getTime() - evidence.firstAt.getTime()) / 3_600_000 : 0;
  const evidenceChecks: GateCheck[] = [
    bound({
      name: 'shadow_hours',
      description: 'hours between the first and last paired impression with a final label',
      value: hours,
      comparator: '>=',
      threshold: settings.minHours,
      protects: 'a verdict on a few hours of traffic would miss the daily cycle',
    }),
    bound({
      name: 'shadow_impressions',
      description: 'impressions scored by both models, with final labels',
      value: evidence.impressions,
      comparator: '>=',
      threshold: settings.minImpressions,
    }),
    bound({
      name: 'shadow_clicks',
      description: 'clicks among those impressions',
      value: evidence.clicks,
      comparator: '>=',
      threshold: settings.minClicks,
      protects: 'with k clicks calibration is known to about ±1/√k',
    }),
  ];
  const { challenger, champion, difference } = evidence;
  const championGap = calibrationGap(champion.metrics.calibration);
  const qualityChecks: GateCheck[] = [
    bound({
      name: 'live_logloss_vs_champion',
      description: `challenger v${challenger.version} logloss − champion v${champion.version} logloss, same live impressions`,
      value: difference.logloss.value,
      se: difference.logloss.se,
      comparator: '<=',
      threshold: Math.max(settings.maxLoglossIncrease, widen(difference.logloss.se)),
      rule: `max(SHADOW_MAX_LOGLOSS_INCREASE, ${GATE_Z} SE)`,
    }),
    bound({
      name: 'live_calibration_gap_vs_champion',
      description: `|Σp/Σy − 1| of challenger v${challenger.version} (champion v${champion.version}: ${championGap.toPrecision(3)}), same live impressions`,
      value: calibrationGap(challenger.metrics.calibration),
      se: challenger.metrics.calibration.se,
      comparator: '<=',
      threshold: Math.max(championGap, settings.calibrationTolerance) + widen(challenger.metrics.calibration.se),
      rule: `max(champion gap, SHADOW_CALIBRATION_TOLERANCE) + ${GATE_Z} SE`,
    }),
  ];
  const short = evidenceChecks.filter((c) => c.outcome === 'FAIL');
  if (short.length > 0) {
    return {
      outcome: 'WAIT',
      reasons: short.map((c) => c.message),
      checks: [...evidenceChecks, ...qualityChecks.map((c) => ({ ...c, outcome: 'SKIPPED' as const }))],
    };
  }
  const worse = qualityChecks.filter((c) => c.outcome === 'FAIL');
  return {
    outcome: worse.length === 0 ? 'PROMOTE' : 'REFUSE',
    reasons:
      worse.length === 0
        ? [`no worse than champion v${champion.version} on ${evidence.impressions} live impressions`]
        : worse.map((c) => c.message),
    checks: [...evidenceChecks, ...qualityChecks],
  };
}
