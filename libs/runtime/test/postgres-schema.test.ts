import { describe, expect, it } from 'vitest';
import { checkedSchemaName, SchemaNameSchema } from '../src/index.js';

class InvalidName extends Error {}

describe('checkedSchemaName', () => {
  it('returns the schema when it is a lower-case identifier, the fallback when it is unset', () => {
    const invalid = (message: string) => new InvalidName(message);
    expect(checkedSchemaName('clicklog_test_1', 'clicklog', invalid)).toBe('clicklog_test_1');
    expect(checkedSchemaName(undefined, 'clicklog', invalid)).toBe('clicklog');
  });

  it('throws what the caller makes of a message naming the bad value', () => {
    for (const bad of ['x; DROP TABLE y', 'Upper', '1st', 'a'.repeat(64), '']) {
      expect(() => checkedSchemaName(bad, 'clicklog', (message) => new InvalidName(message))).toThrow(
        new InvalidName(
          `Invalid schema name ${JSON.stringify(bad)}: expected a lower-case Postgres identifier: [a-z_][a-z0-9_]{0,62}`,
        ),
      );
    }
    expect(SchemaNameSchema.safeParse('a'.repeat(63)).success).toBe(true);
  });
});
