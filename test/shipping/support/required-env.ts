import type { z } from 'zod';

/** The variables a service cannot start without: schema keys with no default that are not optional. */
export function requiredEnvNames(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name)
    .sort();
}
