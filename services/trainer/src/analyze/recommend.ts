import type { NeDelta, Recommendation } from './feature-report.js';

export interface Thresholds {
  minNeGain: number;
  significanceZ: number;
}

/** True when an NE gain is both large enough to matter and clear of the noise of the sample. */
export function isRealGain(gain: NeDelta, t: Thresholds): boolean {
  return gain.delta > t.minNeGain && gain.delta > t.significanceZ * gain.se;
}

export interface Candidate {
  target: 'field' | 'cross';
  name: string;
  /** spec: present in the spec (the change considered is removing it); candidate: a cross not in it. */
  origin: 'spec' | 'candidate';
  /** NE gained by having the item: NE(without) − NE(with). */
  gain: NeDelta;
  /** Scorer ns per impression the item costs: ns(with) − ns(without). */
  costNs: number;
  /** Crosses kept or added that need this field: it is kept for them. */
  requiredBy?: readonly string[];
  /** Appended to the reason. */
  note?: string;
}

const fmt = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(4);
const ns = (x: number): string => `${Math.round(Math.abs(x))} ns/impression`;

/**
 * Turns measured gains and costs into ranked keep / drop / add advice. Adds and drops come first,
 * best expected NE change first; then what is kept, ordered by NE lost per ns saved if it were
 * dropped (cheapest accuracy to trade for latency first). Candidates not worth adding are omitted.
 */
export function recommend(items: readonly Candidate[], t: Thresholds): Recommendation[] {
  const actions: Omit<Recommendation, 'rank'>[] = [];
  const keeps: Omit<Recommendation, 'rank'>[] = [];
  for (const it of items) {
    const real = isRealGain(it.gain, t);
    const gainText = `${fmt(it.gain.delta)} ± ${it.gain.se.toFixed(4)} NE`;
    if (it.origin === 'candidate') {
      if (!real) continue;
      actions.push({
        action: 'add',
        target: it.target,
        name: it.name,
        change: 'add',
        neChange: -it.gain.delta,
        neChangeSe: it.gain.se,
        costNs: it.costNs,
        reason: `adding it lowers NE by ${it.gain.delta.toFixed(4)} (± ${it.gain.se.toFixed(4)}) for about ${ns(it.costNs)} more`,
      });
      continue;
    }
    const rec = {
      target: it.target,
      name: it.name,
      change: 'remove' as const,
      neChange: it.gain.delta,
      neChangeSe: it.gain.se,
      costNs: -it.costNs,
    };
    const required = it.requiredBy ?? [];
    if (real) {
      keeps.push({
        ...rec,
        action: 'keep',
        reason: `worth ${gainText}; removing it would save about ${ns(it.costNs)}`,
      });
    } else if (required.length > 0) {
      keeps.push({
        ...rec,
        action: 'keep',
        reason: `needed by ${required.join(', ')} (alone it is worth ${gainText}); removing it would save about ${ns(it.costNs)}`,
      });
    } else {
      actions.push({
        ...rec,
        action: 'drop',
        reason:
          it.gain.delta <= 0
            ? `the model is no worse without it (${gainText}); saves about ${ns(it.costNs)}`
            : `its gain (${gainText}) is below the bar of ${t.minNeGain} NE and ${t.significanceZ} standard errors; saves about ${ns(it.costNs)}`,
      });
    }
  }
  actions.sort((a, b) => a.neChange - b.neChange || a.costNs - b.costNs || a.name.localeCompare(b.name));
  // NE lost per ns saved; items that save nothing measurable go last.
  const efficiency = (r: Omit<Recommendation, 'rank'>): number =>
    r.costNs < 0 ? r.neChange / -r.costNs : Number.POSITIVE_INFINITY;
  keeps.sort((a, b) => efficiency(a) - efficiency(b) || a.neChange - b.neChange || a.name.localeCompare(b.name));
  const notes = new Map(items.filter((it) => it.note).map((it) => [`${it.target}:${it.name}`, it.note as string]));
  return [...actions, ...keeps].map((r, i) => {
    const note = notes.get(`${r.target}:${r.name}`);
    return { rank: i + 1, ...r, ...(note ? { reason: `${r.reason}. Note: ${note}` } : {}) };
  });
}
