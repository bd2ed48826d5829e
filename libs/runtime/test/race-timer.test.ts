import { describe, expect, it } from 'vitest';
import { raceTimer } from '../src/index.js';

describe('raceTimer', () => {
  it('settles like the work when it finishes first, and never calls onTimeout', async () => {
    let timedOut = false;
    expect(await raceTimer(Promise.resolve(7), 10_000, () => (timedOut = true))).toBe(7);
    await expect(raceTimer(Promise.reject(new Error('boom')), 10_000, () => 0)).rejects.toThrow('boom');
    expect(timedOut).toBe(false);
  });

  it('settles like onTimeout when the work is slower: its value or its throw', async () => {
    const never = new Promise<number>(() => undefined);
    expect(await raceTimer(never, 5, () => 'late')).toBe('late');
    await expect(
      raceTimer(never, 5, () => {
        throw new Error('deadline');
      }),
    ).rejects.toThrow('deadline');
  });
});
