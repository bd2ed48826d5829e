import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { capturingLogger } from '../../../test/support/json-lines.js';
import { startSchedule } from '../src/schedule.js';

describe('startSchedule', () => {
  it('logs the next run, never overlaps, and stop() aborts and waits for the run in flight', async () => {
    const { lines, logger } = capturingLogger();
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    let aborted = false;
    const schedule = startSchedule({
      cron: '* * * * * *',
      timeZone: 'Europe/Berlin',
      logger,
      // Runs until stopped: every tick after the first falls while it is in flight.
      job: async (signal) => {
        runs++;
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        try {
          await sleep(600_000, undefined, { signal });
        } catch {
          aborted = true;
        } finally {
          concurrent--;
        }
      },
    });
    const started = lines.find((l) => l.msg === 'schedule started');
    expect(started).toMatchObject({ cron: '* * * * * *', timeZone: 'Europe/Berlin' });
    expect(Date.parse(String(started?.nextRun))).toBeGreaterThan(Date.now() - 1_000);
    expect(schedule.nextRun()).toBeInstanceOf(Date);

    // However slow the machine, the first tick starts a run and a later one finds it still going.
    await vi.waitFor(
      () => {
        expect(runs).toBe(1);
        expect(lines.some((l) => String(l.msg).includes('still in progress'))).toBe(true);
      },
      { timeout: 60_000, interval: 50 },
    );
    expect(maxConcurrent).toBe(1);
    expect(schedule.busy()).toBe(true);

    await schedule.stop();
    expect(schedule.busy()).toBe(false);
    expect(aborted).toBe(true);
    // No tick starts a run once stopped (two ticks' time).
    await sleep(2_100);
    expect(runs).toBe(1);
    expect(lines.at(-1)?.msg).toBe('schedule stopped');
  });
});
