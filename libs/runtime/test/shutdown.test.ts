import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createShutdown } from '../src/index.js';

describe('createShutdown', () => {
  it('runs closers in reverse registration order (last started, first stopped), once, and aborts its signal', async () => {
    const order: string[] = [];
    const shutdown = createShutdown({ timeoutMs: 1000, exit: () => {} });
    shutdown.register('server', async () => {
      await sleep(5);
      order.push('server');
    });
    shutdown.register('pool', () => {
      order.push('pool');
    });
    expect(shutdown.signal.aborted).toBe(false);
    const first = shutdown.run('test');
    const second = shutdown.run('again');
    expect(shutdown.shuttingDown).toBe(true);
    expect(shutdown.signal.aborted).toBe(true);
    await expect(first).resolves.toBe(true);
    await expect(second).resolves.toBe(true);
    expect(order).toEqual(['pool', 'server']);
  });

  it('keeps going after a failing closer and reports an unclean shutdown', async () => {
    const order: string[] = [];
    const shutdown = createShutdown({ exit: () => {} });
    shutdown.register('after', () => {
      order.push('after');
    });
    shutdown.register('broken', () => {
      throw new Error('boom');
    });
    await expect(shutdown.run('test')).resolves.toBe(false);
    expect(order).toEqual(['after']);
  });

  it('gives up on closers that outlive the time limit', async () => {
    const shutdown = createShutdown({ timeoutMs: 30, exit: () => {} });
    shutdown.register('hangs', () => new Promise<void>(() => {}));
    const started = Date.now();
    await expect(shutdown.run('test')).resolves.toBe(false);
    // Its 30 ms limit, not the 10 s default (with room for a busy machine).
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses closers once shutdown has started', async () => {
    const shutdown = createShutdown({ exit: () => {} });
    await shutdown.run('test');
    expect(() => shutdown.register('late', () => {})).toThrow(/shutdown has started/);
  });

  it('exits 0 on the first signal after closing, and at once with 1 on a second', async () => {
    const codes: number[] = [];
    const shutdown = createShutdown({ signals: ['SIGUSR2'], timeoutMs: 1000, exit: (c) => codes.push(c) });
    let release: () => void = () => {};
    shutdown.register('slow', () => new Promise<void>((r) => (release = r)));
    shutdown.install();
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      process.emit('SIGUSR2', 'SIGUSR2');
      expect(codes).toEqual([1]);
      release();
      await sleep(10);
      expect(codes).toEqual([1, 0]);
    } finally {
      shutdown.dispose();
    }
  });
});
