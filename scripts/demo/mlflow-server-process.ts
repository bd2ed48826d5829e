import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `mlflow server` for a throw-away tracking server, as the demo and the tests' private servers start
 * it: a SQLite store at `database`, on loopback at `port`, one worker, and no job runner (one more
 * Python process importing MLflow at start-up, serving GenAI features neither uses). Callers add
 * their artifact options and environment.
 */
export function sqliteMlflowServer(database: string, port: number): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: [
      'server',
      '--backend-store-uri',
      `sqlite:///${database}`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  };
}

/**
 * Resolves once GET /health answers 200; throws when the process exits first or `timeoutMs` passes.
 * `stillStarting` is told every 30 s (on a busy machine MLflow's imports and migrations take minutes).
 */
export async function waitMlflowHealthy(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  stillStarting?: (seconds: number) => void,
): Promise<void> {
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  let nextNote = startedAt + 30_000;
  while (Date.now() < deadline) {
    if (Date.now() >= nextNote) {
      stillStarting?.(Math.round((Date.now() - startedAt) / 1000));
      nextNote = Date.now() + 30_000;
    }
    if (child.exitCode !== null) throw new Error(`MLflow exited with code ${child.exitCode} before it became healthy`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`MLflow did not answer ${url}/health within ${timeoutMs / 1000} s`);
}

/**
 * Stops a process spawned with `detached: true` and everything it started (MLflow's workers): SIGTERM
 * to its process group, SIGKILL if it is still running after `graceMs`. Resolves once it has exited.
 */
export async function stopProcessGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    return;
  }
  await exited;
}
