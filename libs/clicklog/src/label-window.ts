import { z } from 'zod';

/**
 * The window every click-log read takes, in one place: impressions served in [from, to), labelled
 * clicked when the click came within the attribution window, and only those old enough at `now` for
 * that label to be final.
 */
export const LabelWindowShape = {
  /** Inclusive start of the window (served_at >= from). */
  from: z.date(),
  /** Exclusive end of the window (served_at < to). */
  to: z.date(),
  /** A click counts when clicked_at - served_at is in [0, this many minutes]. */
  attributionWindowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  /**
   * The read's "now" for the label-delay rule: impressions served after now - attribution window
   * are excluded (their clicks may still arrive). Default: the database's now().
   */
  now: z.date().optional(),
};
