import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postPredict } from './api-requests.js';
import { makeArtifact } from './fixtures.js';
import { cleanup, publishVersion, testClient, uniqueName } from './mlflow-fixtures.js';
import {
  killedAfterEach,
  type LogLine,
  PROCESS_TEST_TIMEOUT_MS,
  type ServerProcess,
  serveModel,
} from './server-process.js';

const client = testClient();
const name = uniqueName('workers');
const servers = killedAfterEach();
const body = JSON.stringify({ impressions: [{ id: 'a', ad_id: 'ad-1' }] });

beforeAll(async () => {
  await publishVersion(client, name, makeArtifact(41).bytes, { alias: 'champion' });
});
afterAll(() => cleanup(client, name));

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await serveModel(name, env);
  servers.push(server);
  return server;
}

const forked = (worker: number) => (l: LogLine) => l.msg === 'worker forked' && l.worker === worker;
const loaded = (worker: number) => (l: LogLine) => l.msg === 'model loaded: ready' && l.worker === worker;

async function predictStatus(url: string): Promise<number> {
  return postPredict(url, body).then(
    (r) => r.status,
    () => 0,
  );
}

describe('the real server process when workers die', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('WORKERS=1 and the worker dies: the primary stays, nothing answers meanwhile (not ready), a new worker serves', async () => {
    const server = await start({ WORKERS: '1' });
    const first = await server.waitForLog(loaded(1));
    await server.waitForStatus('/readyz', (s) => s === 200);
    process.kill(first.pid, 'SIGKILL');
    await server.waitForLog((l) => l.msg.startsWith('worker died; respawning (no worker serves meanwhile'));
    // Until the new worker has loaded the model it does not listen: the probe is refused, not answered.
    const probe = await fetch(`${server.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (!server.logs.some(loaded(2))) expect(probe).toBe(0);
    await server.waitForLog(loaded(2));
    await server.waitForStatus('/readyz', (s) => s === 200);
    expect(await predictStatus(server.url)).toBe(200);
    expect(server.child.exitCode).toBeNull();
    expect(server.logs.filter((l) => l.msg.includes('fetched and verified'))).toHaveLength(1);
  });

  it(`workers that keep dying at start: the primary gives up after a bounded crash loop, exits 1, removes the hand-off file`, async () => {
    const server = await start({ WORKERS: '1' });
    await server.waitForLog(loaded(1));
    const handoff = String((await server.waitForLog((l) => l.msg.includes('fetched and verified'))).handoffPath);
    expect(existsSync(handoff)).toBe(true);
    // Each new worker is killed the moment it is forked: a crash loop.
    for (let worker = 1; server.child.exitCode === null && worker < 20; worker++) {
      const line = await Promise.race([server.waitForLog(forked(worker)), server.exited.then(() => undefined)]);
      if (line === undefined) break;
      try {
        process.kill(Number(line.workerPid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    expect(await server.exited).toBe(1);
    const fatal = server.logs.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toMatch(/crashed 5 times in a row/);
    expect(server.logs.filter((l) => l.msg === 'worker forked').length).toBeLessThanOrEqual(1 + 5);
    expect(existsSync(dirname(handoff))).toBe(false);
  });

  it('a worker that cannot read the hand-off: never routed to, the primary checks the file and fails loudly (exit 1)', async () => {
    const server = await start({ WORKERS: '2' });
    await server.waitForLog(loaded(1));
    const second = await server.waitForLog(loaded(2));
    const handoff = String((await server.waitForLog((l) => l.msg.includes('fetched and verified'))).handoffPath);
    await writeFile(handoff, 'not the artifact any more');
    process.kill(second.pid, 'SIGKILL');
    const fatal = await server.waitForLog((l) => l.level === 'fatal' && l.role === 'primary');
    expect(fatal.code).toBe('INFERENCE_HANDOFF_FAILED');
    expect(fatal.msg).toMatch(/hand-off file is unreadable or altered/);
    // The worker that failed never listened, so no connection was routed to it.
    expect(server.logs.some((l) => l.msg === 'worker listening' && l.worker === 3)).toBe(false);
    expect(await server.exited).toBe(1);
    expect(existsSync(dirname(handoff))).toBe(false);
  });
});
