import { describe, expect, it } from 'vitest';
import { BackgroundLog } from '../src/pipeline/background-log.js';

/** A write that finishes when the test says so. */
function gatedWrites() {
  const started: number[] = [];
  const release = new Map<number, (error?: Error) => void>();
  const write = (item: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      release.set(item, (error) => (error ? reject(error) : resolve()));
    });
  return { started, release, write };
}

describe('BackgroundLog', () => {
  it('returns from add before the write lands, keeps at most `concurrency` in flight, and settle waits for all', async () => {
    const { started, release, write } = gatedWrites();
    const log = new BackgroundLog(write, 2);
    for (const item of [1, 2, 3, 4]) await log.add(item);
    expect(started).toEqual([1, 2]);
    let settled = false;
    const settling = log.settle().then(() => (settled = true));
    release.get(1)?.();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2, 3]);
    release.get(2)?.();
    release.get(3)?.();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2, 3, 4]);
    expect(settled).toBe(false);
    release.get(4)?.();
    await settling;
    expect(settled).toBe(true);
  });

  it('settle throws the first failure, after every write has finished', async () => {
    const { started, release, write } = gatedWrites();
    const log = new BackgroundLog(write, 4);
    for (const item of [1, 2, 3]) await log.add(item);
    release.get(2)?.(new Error('mlflow said 500'));
    release.get(3)?.(new Error('later failure'));
    let done = false;
    const settling = log.settle().finally(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release.get(1)?.();
    await expect(settling).rejects.toThrow('mlflow said 500');
    expect(started).toEqual([1, 2, 3]);
  });

  it('with merge, folds the items queued behind the write in flight into one write, in order', async () => {
    const started: number[][] = [];
    const release: (() => void)[] = [];
    const write = (items: number[]) =>
      new Promise<void>((resolve) => {
        started.push(items);
        release.push(resolve);
      });
    const log = new BackgroundLog(write, { concurrency: 1, merge: (batches) => batches.flat() });
    await log.add([1]);
    for (const item of [2, 3, 4]) await log.add([item]);
    expect(started).toEqual([[1]]);
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([[1], [2, 3, 4]]);
    await log.add([5]);
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([[1], [2, 3, 4], [5]]);
    release.shift()?.();
    await log.settle();
  });
});
