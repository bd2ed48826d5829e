import { z } from 'zod';

/**
 * `schema.parse(input)`, but a failure becomes the calling package's own error: `toError` is given
 * every issue in words (zod's prettifyError, one per line) and the ZodError to keep as the cause.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  toError: (issues: string, cause: z.ZodError) => Error,
): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw toError(z.prettifyError(r.error), r.error);
  return r.data;
}
