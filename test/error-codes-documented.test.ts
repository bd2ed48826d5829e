import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['libs', 'services'].flatMap((group) =>
  readdirSync(`${root}${group}`).map((name) => `${group}/${name}`),
);

describe('error codes', () => {
  it.each(packages)('every code in %s/src/errors.ts is documented in its README', (pkg) => {
    const source = readFileSync(`${root}${pkg}/src/errors.ts`, 'utf8');
    const codes = [...source.matchAll(/:\s*'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(0);
    const readme = readFileSync(`${root}${pkg}/README.md`, 'utf8');
    const missing = codes.filter((code) => !readme.includes(`\`${code}\``));
    expect(missing, `add these to ${pkg}/README.md`).toEqual([]);
  });
});
