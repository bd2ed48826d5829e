import { describe, expect, it } from 'vitest';
import { ReadAhead, segment } from '../src/import/read-ahead.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

async function* source(items: string[], log: string[], failAfter?: number): AsyncGenerator<Buffer> {
  try {
    for (const [i, item] of items.entries()) {
      if (failAfter !== undefined && i === failAfter) throw new Error('bad file');
      log.push(`read ${item}`);
      yield bytes(item);
    }
  } finally {
    log.push('closed');
  }
}

async function drain(ahead: ReadAhead): Promise<string[]> {
  const out: string[] = [];
  for (let b = await ahead.next(); b !== undefined; b = await ahead.next()) out.push(b.toString());
  return out;
}

describe('ReadAhead', () => {
  it('reads ahead while the consumer is busy, up to its limit, and hands batches out in order', async () => {
    const log: string[] = [];
    const ahead = new ReadAhead(source(['aa', 'bb', 'cc', 'dd', 'ee'], log), 4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['read aa', 'read bb']); // 4 bytes queued: it waits
    expect((await ahead.next())?.toString()).toBe('aa');
    expect(await drain(ahead)).toEqual(['bb', 'cc', 'dd', 'ee']);
    expect(log.at(-1)).toBe('closed');
  });

  it('cuts segments of at least the given size without losing a batch between them', async () => {
    const ahead = new ReadAhead(source(['aa', 'bb', 'cc', 'dd', 'ee'], []), 100);
    const segments: string[][] = [];
    for (let first = await ahead.next(); first !== undefined; first = await ahead.next()) {
      const parts: string[] = [];
      for await (const b of segment(ahead, first, 4)) parts.push(b.toString());
      segments.push(parts);
    }
    expect(segments).toEqual([['aa', 'bb'], ['cc', 'dd'], ['ee']]);
  });

  it("rethrows the source's error after the batches before it, and stop() closes the source", async () => {
    const failing = new ReadAhead(source(['aa', 'bb', 'cc'], [], 2), 100);
    expect((await failing.next())?.toString()).toBe('aa');
    expect((await failing.next())?.toString()).toBe('bb');
    await expect(failing.next()).rejects.toThrow('bad file');

    const log: string[] = [];
    const stopped = new ReadAhead(source(['aa', 'bb', 'cc', 'dd'], log), 2);
    expect((await stopped.next())?.toString()).toBe('aa');
    await stopped.stop();
    expect(log.at(-1)).toBe('closed');
    expect(log).not.toContain('read dd');
  });
});
