import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFeatureSpec } from '@fallback-ctr/model';
import { describe, expect, it } from 'vitest';
import { TrainerErrorCode } from '../src/errors.js';
import { resolveFeatureSpec } from '../src/feature-spec-source.js';

const small = { ...defaultFeatureSpec, hashBits: 16, crosses: [] };

describe('resolveFeatureSpec', () => {
  it('defaults to libs/model’s spec', () => {
    expect(resolveFeatureSpec(undefined)).toEqual(defaultFeatureSpec);
    expect(resolveFeatureSpec('  ')).toEqual(defaultFeatureSpec);
  });
  it('reads inline JSON and a file', () => {
    expect(resolveFeatureSpec(JSON.stringify(small)).hashBits).toBe(16);
    const file = join(mkdtempSync(join(tmpdir(), 'spec-')), 'spec.json');
    writeFileSync(file, JSON.stringify(small));
    expect(resolveFeatureSpec(file).crosses).toEqual([]);
  });
  it('explains what is wrong', () => {
    expect(() => resolveFeatureSpec('/no/such/file.json')).toThrow(/cannot be read/);
    expect(() => resolveFeatureSpec('{nope')).toThrow(/not valid JSON/);
    try {
      resolveFeatureSpec(JSON.stringify({ ...small, hashBits: 'many' }));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: TrainerErrorCode.FEATURE_SPEC_INVALID });
      expect(String((error as Error).message)).toMatch(/not a valid feature spec.*hashBits/s);
    }
  });
});
