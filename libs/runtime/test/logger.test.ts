import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with name, level label and child context', async () => {
    const out = capture();
    const logger = createLogger({ name: 'trainer', level: 'info', destination: out.stream });
    logger.child({ runId: 'r-1' }).info({ rows: 10 }, 'loaded');
    logger.debug('hidden below level');
    await new Promise((r) => setImmediate(r));
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ name: 'trainer', level: 'info', runId: 'r-1', rows: 10, msg: 'loaded' });
  });

  it('redacts passwords, tokens and authorization headers', async () => {
    const out = capture();
    const logger = createLogger({ name: 't', level: 'info', destination: out.stream });
    logger.info(
      { password: 'p4ss', db: { password: 'p5ss' }, req: { headers: { authorization: 'Bearer abc' } }, token: 't0k' },
      'secrets',
    );
    await new Promise((r) => setImmediate(r));
    const text = JSON.stringify(out.lines());
    for (const secret of ['p4ss', 'p5ss', 'Bearer abc', 't0k']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('takes its level from LOG_LEVEL when none is given', async () => {
    const previous = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    try {
      const logger = createLogger({ name: 't', destination: capture().stream });
      expect(logger.level).toBe('warn');
    } finally {
      if (previous === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = previous;
    }
  });
});
