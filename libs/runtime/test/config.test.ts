import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envBoolean, envInt, envList, logLevel, parseEnv, redactUrlPassword } from '../src/index.js';

const schema = z.object({
  PORT: envInt(1, 65535).default(8080),
  WORKERS: envInt(1, 64),
  DATABASE_URL: z.url(),
  API_TOKEN: z.string().min(16),
  LOG_LEVEL: logLevel().default('info'),
  DRY_RUN: envBoolean().default(false),
  TAGS: envList().default([]),
});

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('parses valid variables, coerces types and applies defaults', () => {
    const config = parseEnv(schema, {
      WORKERS: '2',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
      API_TOKEN: 'a-long-enough-token',
      DRY_RUN: 'yes',
      TAGS: 'a, b,,c',
      UNRELATED: 'ignored',
    });
    expect(config).toEqual({
      PORT: 8080,
      WORKERS: 2,
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
      API_TOKEN: 'a-long-enough-token',
      LOG_LEVEL: 'info',
      DRY_RUN: true,
      TAGS: ['a', 'b', 'c'],
    });
  });

  it('treats empty strings as unset so defaults apply', () => {
    const config = parseEnv(schema, {
      PORT: '',
      WORKERS: '1',
      DATABASE_URL: 'postgres://127.0.0.1/db',
      API_TOKEN: 'x'.repeat(16),
    });
    expect(config.PORT).toBe(8080);
  });

  it('reports every bad or missing variable in one error', () => {
    const error = catchConfigError(() =>
      parseEnv(schema, { PORT: '99999', DATABASE_URL: 'not a url', LOG_LEVEL: 'loud', DRY_RUN: 'maybe' }),
    );
    expect(error.code).toBe('FCTR_CONFIG_INVALID');
    const variables = error.issues.map((i) => i.variable).sort();
    expect(variables).toEqual(['API_TOKEN', 'DATABASE_URL', 'DRY_RUN', 'LOG_LEVEL', 'PORT', 'WORKERS']);
    expect(error.message).toContain('6 environment variables to fix');
    expect(error.message).toMatch(/PORT: expected a value <= 65535, got "99999"/);
    expect(error.message).toMatch(/WORKERS: expected .*required.*, got \(missing\)/);
    expect(error.message).toMatch(/LOG_LEVEL: expected one of "fatal", "error"/);
  });

  it('never prints a secret value', () => {
    const error = catchConfigError(() =>
      parseEnv(schema, {
        WORKERS: '1',
        DATABASE_URL: 'postgres://127.0.0.1/db',
        API_TOKEN: 'short-secret',
      }),
    );
    expect(error.message).toContain('API_TOKEN');
    expect(error.message).not.toContain('short-secret');
  });

  it('masks the password of a URL it echoes', () => {
    const urlSchema = z.object({ DATABASE_URL: z.url().startsWith('postgres://') });
    const error = catchConfigError(() => parseEnv(urlSchema, { DATABASE_URL: 'mysql://admin:hunter2@db/x' }));
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('mysql://admin:***@db/x');
    expect(redactUrlPassword('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
  });

  it('masks a password that holds "/" or "@" (the URL then fails to parse, so it is echoed)', () => {
    const urlSchema = z.object({ MLFLOW_TRACKING_URI: z.url({ protocol: /^https?$/ }) });
    for (const password of ['se/cret', 'p/ss@word', 'a:b/c@d']) {
      const error = catchConfigError(() =>
        parseEnv(urlSchema, { MLFLOW_TRACKING_URI: `http://ops:${password}@mlflow.internal:5000` }),
      );
      expect(error.message).toContain('MLFLOW_TRACKING_URI');
      expect(error.message).not.toContain(password);
      expect(error.message).toContain('http://ops:***@mlflow.internal:5000');
    }
  });
});
