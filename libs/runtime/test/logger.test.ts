import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseJsonLine } from '../../../test/support/json-lines.js';
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

  it('never writes a key twice when a call repeats what the logger binds', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const logger = createLogger({ name: 'trainer', level: 'info', destination: stream });
    const run = logger.child({ runId: 'r-1', modelName: 'm' });
    // A helper that names the model it moves, given the run's logger (the bug: "modelName" twice).
    run.info({ modelName: 'm', modelVersion: '1' }, 'champion alias moved');
    run.child({ schema: 's' }).warn({ schema: 's', runId: 'r-1', rows: 3 }, 'nested');
    // Given the root logger, the same helper's line still names the model.
    logger.info({ modelName: 'm', modelVersion: '1' }, 'champion alias moved');
    run.error(new Error('boom'), 'an error first');
    await new Promise((r) => setImmediate(r));
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(4);
    const parsed = lines.map(parseJsonLine);
    expect(parsed[0]).toMatchObject({ runId: 'r-1', modelName: 'm', modelVersion: '1' });
    expect(lines[0]?.match(/"modelName"/g)).toHaveLength(1);
    expect(parsed[1]).toMatchObject({ runId: 'r-1', schema: 's', rows: 3 });
    expect(parsed[2]).toMatchObject({ modelName: 'm', modelVersion: '1' });
    expect(parsed[3]).toMatchObject({ runId: 'r-1', err: { message: 'boom' } });
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
