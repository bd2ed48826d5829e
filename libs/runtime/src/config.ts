import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';

/** Variable names that look like secrets: their values never appear in an error or a log. */
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL/i;

export type Env = Record<string, string | undefined>;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Masks the password of a URL such as postgres://user:pass@host/db; other text is returned as is.
 * Everything up to the last "@" counts as the password: one holding "/" or "@" (unescaped, so the
 * URL does not parse and ends up in an error message) is masked whole.
 */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):\S*@/i, '$1:***@');
}

function describeReceived(variable: string, value: unknown): string {
  if (value === undefined || value === '') return '(missing)';
  if (isSecretName(variable)) return '(a value, hidden because it may be a secret)';
  const text = redactUrlPassword(String(value));
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

function expectedFrom(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'string' || issue.input === undefined
        ? `a ${issue.expected} (required)`
        : `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `a value >= ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `a value <= ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_format':
      return `a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

/**
 * Parses environment variables with a zod object schema whose keys are the variable names.
 * Empty strings count as unset, so defaults apply. On failure throws one ConfigError listing every
 * bad or missing variable with what was expected; secret values are never echoed.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env = process.env): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const variable = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    return { variable, expected: expectedFrom(issue), received: describeReceived(variable, input[variable]) };
  });
  throw new ConfigError(issues);
}

/** Common env helpers: strings from the environment coerced into typed values. */
export const envInt = (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);

export const envNumber = () => z.coerce.number().refine(Number.isFinite, 'a finite number');

export const envBoolean = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected one of true, false, 1, 0, yes, no' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const envUrl = () => z.url();

/** A comma-separated list of non-empty strings. */
export const envList = () =>
  z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
