import type { LiveQuality } from './live-quality.js';

export interface GuardSettings {
  calibrationMin: number;
  calibrationMax: number;
  /** Standard errors of margin: an hour is outside only when its whole ± z·SE interval is. */
  z: number;
  /** How many most recent hours with traffic must all be outside. */
  hours: number;
}

/** An hour judged against the band. */
export interface GuardHour {
  hour: Date;
  calibration: number;
  se: number;
  /** above: over-predicts beyond the band; below: under-predicts; inside: within it or too uncertain to say. */
  verdict: 'above' | 'below' | 'inside';
}

export interface GuardDecision {
  /** alarm: the last `hours` hours are all outside; ok: at least one is inside; insufficient: fewer hours of traffic. */
  state: 'alarm' | 'ok' | 'insufficient-data';
  version: string;
  /** The hours looked at (the most recent `hours`, oldest first). */
  hours: GuardHour[];
  reason: string;
}

function judge(q: LiveQuality, s: GuardSettings): GuardHour {
  const { value, se } = q.calibration;
  // No clicks: Σp/Σy is infinite and its SE unknown. An hour with predictions and no clicks at all
  // only counts as "above" when even one click would have left it above the band.
  if (q.clicks === 0) {
    const atMostOneClick = q.sumPredicted;
    return { hour: q.hour!, calibration: value, se, verdict: atMostOneClick > s.calibrationMax ? 'above' : 'inside' };
  }
  const margin = Number.isFinite(se) ? s.z * se : Number.POSITIVE_INFINITY;
  const verdict = value - margin > s.calibrationMax ? 'above' : value + margin < s.calibrationMin ? 'below' : 'inside';
  return { hour: q.hour!, calibration: value, se, verdict };
}

/**
 * The guard on the champion's live calibration: fires when each of its `hours` most recent hours with
 * traffic has Σp/Σy outside [calibrationMin, calibrationMax] by more than z standard errors (one side or
 * the other). A short or thin hour has a wide interval and does not count against the model.
 */
export function guardCalibration(version: string, hourly: readonly LiveQuality[], s: GuardSettings): GuardDecision {
  const mine = hourly.filter((q) => q.version === version && q.hour !== null && q.impressions > 0);
  const recent = mine.slice(-s.hours).map((q) => judge(q, s));
  const band = `[${s.calibrationMin}, ${s.calibrationMax}]`;
  if (recent.length < s.hours) {
    return {
      state: 'insufficient-data',
      version,
      hours: recent,
      reason: `version ${version} has ${recent.length} hour(s) of labelled traffic, the guard needs ${s.hours}`,
    };
  }
  const outside = recent.filter((h) => h.verdict !== 'inside');
  const fmt = (h: GuardHour) => `${h.hour.toISOString().slice(0, 13)}h ${h.calibration.toFixed(3)}±${h.se.toFixed(3)}`;
  if (outside.length === recent.length) {
    return {
      state: 'alarm',
      version,
      hours: recent,
      reason: `live calibration Σp/Σy of version ${version} outside ${band} (beyond ${s.z} SE) for the last ${s.hours} hour(s): ${recent.map(fmt).join(', ')}`,
    };
  }
  return {
    state: 'ok',
    version,
    hours: recent,
    reason: `${recent.length - outside.length} of the last ${s.hours} hour(s) within ${band} (or too uncertain to say)`,
  };
}
