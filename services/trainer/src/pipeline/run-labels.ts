import { formatNumber } from '../nice-ticks.js';
import type { WindowBounds } from './load-window.js';

/** "11-27 00:00" in UTC: short enough for MLflow's runs list, and the year is in the run's dates. */
function shortUtc(d: Date): string {
  return d.toISOString().slice(5, 16).replace('T', ' ');
}

/** The training window as runs lists show it: "11-27 00:00 → 11-29 00:00 UTC". */
export function windowLabel(from: Date, to: Date): string {
  return `${shortUtc(from)} → ${shortUtc(to)} UTC`;
}

/**
 * The run's name: the window while it trains, then the version and what happened to it first, so two
 * runs differ at a glance even when the list cuts names short ("v2 PROMOTED · 11-27 00:00 → …").
 */
export function runName(
  bounds: Pick<WindowBounds, 'from' | 'to'>,
  outcome?: { version: string; status: string },
): string {
  const window = windowLabel(bounds.from, bounds.to);
  return outcome ? `v${outcome.version} ${outcome.status} · ${window}` : `training · ${window}`;
}

/** The holdout as plot subtitles show it: "holdout: 38,465 impressions, 587 clicks · 11-29 12:00 → 11-30 00:00 UTC". */
export function holdoutCaption(
  slice: { rows: number; clicks: number },
  bounds: Pick<WindowBounds, 'to'>,
  holdoutHours: number,
): string {
  const from = new Date(bounds.to.getTime() - holdoutHours * 3_600_000);
  return `holdout: ${formatNumber(slice.rows)} impressions, ${formatNumber(slice.clicks)} clicks · ${windowLabel(from, bounds.to)}`;
}
