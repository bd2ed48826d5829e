import { describe, expect, it } from 'vitest';
import { LOG_BATCH_LIMITS, MlflowError, MlflowErrorCode, planLogBatch } from '../src/index.js';

function sizes(input: Parameters<typeof planLogBatch>[0]) {
  return planLogBatch(input, 1_000).map((c) => ({
    metrics: c.metrics.length,
    params: c.params.length,
    tags: c.tags.length,
    bytes: Buffer.byteLength(JSON.stringify({ run_id: 'r'.repeat(32), ...c })),
  }));
}

function expectCode(fn: () => unknown, code: string, messagePart?: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    expect((error as MlflowError).code).toBe(code);
    if (messagePart) expect((error as MlflowError).message).toMatch(messagePart);
    return;
  }
  throw new Error('expected an MlflowError');
}

describe('planLogBatch', () => {
  it('returns no request for an empty batch', () => {
    expect(planLogBatch({})).toEqual([]);
  });

  it('keeps every chunk within the count limits and loses nothing', () => {
    const metrics = Array.from({ length: 2_500 }, (_, i) => ({ key: `m${i}`, value: i, step: i }));
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, i]));
    const tags = Array.from({ length: 250 }, (_, i) => ({ key: `t${i}`, value: `v${i}` }));
    const chunks = planLogBatch({ metrics, params, tags }, 5);
    for (const c of chunks) {
      expect(c.metrics.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.metrics);
      expect(c.params.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.params);
      expect(c.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.tags);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(LOG_BATCH_LIMITS.entities);
    }
    expect(chunks.flatMap((c) => c.metrics.map((m) => m.key))).toEqual(metrics.map((m) => m.key));
    expect(chunks.flatMap((c) => c.params.map((p) => p.key)).sort()).toEqual(Object.keys(params).sort());
    expect(chunks.flatMap((c) => c.tags.map((t) => t.value))).toEqual(tags.map((t) => t.value));
    expect(chunks[0]?.metrics[0]).toEqual({ key: 'm0', value: 0, timestamp: 5, step: 0 });
    expect(chunks[1]?.metrics[0]?.step).toBe(800);
    // 100 params + 100 tags + 800 metrics, twice, then the rest: 3 requests
    expect(chunks.map((c) => [c.params.length, c.tags.length, c.metrics.length])).toEqual([
      [100, 100, 800],
      [100, 100, 800],
      [50, 50, 900],
    ]);
  });

  it('splits by body size when values are long', () => {
    const tags = Array.from({ length: 400 }, (_, i) => ({ key: `t${i}`, value: 'x'.repeat(7_900) }));
    const params = Array.from({ length: 400 }, (_, i) => ({ key: `p${i}`, value: 'y'.repeat(5_900) }));
    const result = sizes({ tags, params });
    for (const s of result) expect(s.bytes).toBeLessThan(1_000_000);
    expect(result.reduce((n, s) => n + s.tags, 0)).toBe(400);
    expect(result.reduce((n, s) => n + s.params, 0)).toBe(400);
    // 100 tags of 8 kB are ~800 kB: size, not count, must have split some requests
    expect(result.some((s) => s.tags > 0 && s.tags < 100)).toBe(true);
  });

  it('rejects values the server would silently truncate, before sending anything', () => {
    expectCode(
      () => planLogBatch({ params: { ok: 'a', long: 'x'.repeat(6_001) } }),
      MlflowErrorCode.VALUE_TOO_LONG,
      /param "long".*6001 characters.*at most 6000/,
    );
    expectCode(() => planLogBatch({ tags: { long: 'x'.repeat(8_001) } }), MlflowErrorCode.VALUE_TOO_LONG, /8000/);
    expect(planLogBatch({ params: { edge: 'x'.repeat(6_000) }, tags: { edge: 'x'.repeat(8_000) } })).toHaveLength(1);
  });

  it('counts characters the way the server does (code points)', () => {
    // 6000 emoji are 12000 UTF-16 units but 6000 characters for Python
    expect(planLogBatch({ params: { emoji: '😀'.repeat(6_000) } })).toHaveLength(1);
    expectCode(() => planLogBatch({ params: { emoji: '😀'.repeat(6_001) } }), MlflowErrorCode.VALUE_TOO_LONG);
  });

  it('rejects keys the server rejects', () => {
    expectCode(() => planLogBatch({ metrics: [{ key: 'k'.repeat(251), value: 1 }] }), MlflowErrorCode.VALUE_TOO_LONG);
    expectCode(() => planLogBatch({ params: { 'bad*key': 1 } }), MlflowErrorCode.INVALID_ARGUMENT, /characters/);
    expectCode(() => planLogBatch({ tags: { 'a//b': 'v' } }), MlflowErrorCode.INVALID_ARGUMENT, /normalised/);
    expectCode(() => planLogBatch({ tags: { '../x': 'v' } }), MlflowErrorCode.INVALID_ARGUMENT);
    expectCode(() => planLogBatch({ tags: { '': 'v' } }), MlflowErrorCode.INVALID_ARGUMENT);
    expect(planLogBatch({ tags: { 'holdout.auc': '1', 'a/b c:d-e_f': '2' } })).toHaveLength(1);
  });

  it('rejects a param given twice with different values', () => {
    expectCode(
      () =>
        planLogBatch({
          params: [
            { key: 'lr', value: 0.1 },
            { key: 'lr', value: 0.2 },
          ],
        }),
      MlflowErrorCode.INVALID_ARGUMENT,
      /lr/,
    );
  });

  it('encodes non-finite metric values as protobuf JSON does and rejects bad timestamps', () => {
    const [chunk] = planLogBatch({
      metrics: [
        { key: 'a', value: Number.NaN },
        { key: 'b', value: Number.POSITIVE_INFINITY },
        { key: 'c', value: Number.NEGATIVE_INFINITY },
      ],
    });
    expect(chunk?.metrics.map((m) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity']);
    expectCode(
      () => planLogBatch({ metrics: [{ key: 'a', value: 1, timestamp: -1 }] }),
      MlflowErrorCode.INVALID_ARGUMENT,
    );
    expectCode(() => planLogBatch({ metrics: [{ key: 'a', value: 1, step: 0.5 }] }), MlflowErrorCode.INVALID_ARGUMENT);
  });
});
