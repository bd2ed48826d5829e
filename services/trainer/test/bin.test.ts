import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { databaseUrl, trackingUri } from './support/e2e.js';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', bin, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (c) => {
    stdout += String(c);
  });
  return { child, stdout: () => stdout };
}

describe('the trainer binary', () => {
  it('prints help and exits 0', async () => {
    const { child, stdout } = start(['status', '--help'], {});
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(stdout()).toMatch(/^Usage: fallback-ctr-trainer status/);
  });

  it('schedule logs the next run and stops cleanly on SIGTERM', async () => {
    const { child, stdout } = start(['schedule'], {
      DATABASE_URL: databaseUrl(),
      MLFLOW_TRACKING_URI: trackingUri(),
      MODEL_NAME: 'trainer-bin-test-never-runs',
      SCHEDULE: '0 3 1 1 *',
      SCHEDULE_TIMEZONE: 'Asia/Tokyo',
    });
    // Wait on the line itself (starting tsx can take long on a loaded machine), or on an early exit.
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    while (!exited && !stdout().includes('schedule started')) await new Promise((r) => setTimeout(r, 50));
    const started = stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'schedule started');
    expect(started).toMatchObject({ cron: '0 3 1 1 *', timeZone: 'Asia/Tokyo' });
    // 03:00 in Tokyo on 1 January is 18:00 UTC on 31 December.
    expect(String(started?.nextRun)).toMatch(/-12-31T18:00:00/);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(stdout()).toContain('schedule stopped');
  });
});
