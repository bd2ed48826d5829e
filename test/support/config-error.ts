import { ConfigError } from '@fallback-ctr/runtime';
import { expect } from 'vitest';

/** The ConfigError `load` throws; fails the test (naming `what`) when it throws anything else or nothing. */
export function configError(load: () => unknown, what = 'the configuration'): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error, what).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`${what} was accepted; expected a ConfigError`);
}

/** The variables a ConfigError names, sorted. */
export const badVariables = (error: ConfigError): string[] => error.issues.map((i) => i.variable).sort();
