import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks an Authorization header against the configured bearer tokens in constant time: both
 * sides are hashed to equal-length digests and every token is compared, match or not, so
 * neither the length nor the position of a valid token leaks through timing.
 */
export function createBearerVerifier(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  const expected = tokens.map(digest);
  return (authorization) => {
    if (authorization === undefined) return false;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return false;
    const presented = digest(match[1]);
    let ok = false;
    for (const candidate of expected) ok = timingSafeEqual(candidate, presented) || ok;
    return ok;
  };
}
