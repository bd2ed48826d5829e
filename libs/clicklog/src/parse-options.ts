import type { z } from 'zod';
import { ClicklogError, ClicklogErrorCode } from './errors.js';

/** zod-parses options; failures become one CLICKLOG_INVALID_OPTIONS listing every issue. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(options)'}: ${i.message}`);
  throw new ClicklogError(ClicklogErrorCode.INVALID_OPTIONS, `Invalid ${what} options:\n${lines.join('\n')}`);
}

export function assertWindow(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new ClicklogError(ClicklogErrorCode.INVALID_WINDOW, 'Invalid window: `from` and `to` must be valid dates');
  }
  if (to.getTime() <= from.getTime()) {
    throw new ClicklogError(
      ClicklogErrorCode.INVALID_WINDOW,
      `Invalid window: \`to\` (${to.toISOString()}) must be after \`from\` (${from.toISOString()})`,
    );
  }
}
