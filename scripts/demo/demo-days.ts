const DAY_MS = 86_400_000;

/** The attribution window the demo's trainer runs use (ATTRIBUTION_WINDOW_MINUTES). */
export const DEMO_ATTRIBUTION_WINDOW_MINUTES = 30;

/**
 * The start of the demo's "today": the UTC day after the last whole day whose labels are final at `nowMs`.
 * The second trainer run's window ends there, and the trainer refuses a window end later than now minus
 * the attribution window: just after midnight, the day that just ended is not final yet, so the demo's
 * days move back by one.
 */
export function demoToday(nowMs: number, attributionMinutes = DEMO_ATTRIBUTION_WINDOW_MINUTES): number {
  const latestFinal = nowMs - attributionMinutes * 60_000;
  return Math.floor(latestFinal / DAY_MS) * DAY_MS;
}
