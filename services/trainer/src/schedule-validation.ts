import { validate } from 'node-cron';
import { z } from 'zod';

/** A cron expression node-cron accepts (5 fields, or 6 with seconds). */
export const cronExpression = () => z.string().refine((v) => validate(v), 'a valid cron expression, e.g. "0 3 * * *"');

/** An IANA time zone name the runtime knows, e.g. "Europe/Berlin". */
export const timeZone = () =>
  z.string().refine((v) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: v });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as "UTC" or "Europe/Berlin"');
