import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@fallback-ctr/runtime';
import { freePort } from './free-port.js';

export interface LocalMlflow {
  url: string;
  log: string;
  /** Resolves once GET /health answers; rejects (after stopping the server) if it never does. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Waits until GET /health answers 200, or the process exits, or the time is up; says every 30 s that
 * it is still waiting (on a busy machine MLflow's imports and migrations alone can take minutes).
 */
async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  let nextNote = startedAt + 30_000;
  while (Date.now() < deadline) {
    if (Date.now() >= nextNote) {
      logger.info({ seconds: Math.round((Date.now() - startedAt) / 1000) }, 'MLflow is still starting');
      nextNote = Date.now() + 30_000;
    }
    if (child.exitCode !== null) throw new Error(`MLflow exited with code ${child.exitCode} before it became healthy`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`MLflow did not answer ${url}/health within ${timeoutMs / 1000} s`);
}

/** The virtualenv's MLflow version (from its dist-info directory), or undefined when it cannot be told. */
function mlflowVersion(venv: string): string | undefined {
  try {
    for (const python of readdirSync(join(venv, 'lib'))) {
      for (const entry of readdirSync(join(venv, 'lib', python, 'site-packages'))) {
        const match = /^mlflow-(\d[^-]*)\.dist-info$/.exec(entry);
        if (match) return match[1];
      }
    }
  } catch {
    // no such virtualenv layout
  }
  return undefined;
}

/**
 * An MLflow tracking server with a SQLite backend and served artifacts, both under `dataDir`, from the
 * project's pinned virtualenv. It runs in its own process group so stop() also ends its workers.
 * Returns as soon as the process is spawned: its start-up (tens of seconds) overlaps other work.
 * A new database is a copy of the empty one the first start migrated, kept in `cacheDir` per MLflow
 * version: the same tables, without running every migration again (about a quarter of the start-up).
 */
export async function startLocalMlflow(options: {
  venv: string;
  dataDir: string;
  cacheDir: string;
  logger: Logger;
  timeoutMs?: number;
}): Promise<LocalMlflow> {
  mkdirSync(options.dataDir, { recursive: true });
  const database = join(options.dataDir, 'mlflow.db');
  const version = mlflowVersion(options.venv);
  const emptyDatabase = version === undefined ? undefined : join(options.cacheDir, `mlflow-${version}-empty.db`);
  const fromCache = emptyDatabase !== undefined && existsSync(emptyDatabase);
  if (fromCache) copyFileSync(emptyDatabase, database);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(join(options.dataDir, 'mlflow.log'), 'a');
  const child = spawn(
    join(options.venv, 'bin', 'mlflow'),
    [
      'server',
      '--backend-store-uri',
      `sqlite:///${database}`,
      '--artifacts-destination',
      join(options.dataDir, 'artifacts'),
      '--serve-artifacts',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
      // Longer than the client's idle sockets live (undici: 4 s), so the server never closes one the client
      // is just reusing (uvicorn's 5 s default raced it on a loaded machine: "other side closed").
      '--uvicorn-opts',
      '--timeout-keep-alive 60',
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
      // The job runner (huey consumers) serves GenAI features the demo does not use.
      env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
    },
  );
  const stop = async () => {
    if (child.pid === undefined || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 40 && child.exitCode === null; i++) await sleep(250);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const logFile = join(options.dataDir, 'mlflow.log');
  options.logger.info({ url, log: logFile }, 'starting MLflow (SQLite backend) in the background');
  const startedAt = Date.now();
  // Ten minutes: a loaded 2-core machine took 112 s for the imports and SQLite migrations, and more than 120 s once.
  const ready = waitHealthy(url, child, options.timeoutMs ?? 600_000, options.logger).then(
    () => {
      // Nothing has written to the new database yet (the demo waits for this promise): it is the empty one.
      if (emptyDatabase !== undefined && !fromCache) {
        try {
          mkdirSync(options.cacheDir, { recursive: true });
          const partial = `${emptyDatabase}.${process.pid}.tmp`;
          copyFileSync(database, partial);
          renameSync(partial, emptyDatabase);
        } catch (error) {
          options.logger.warn({ err: error }, 'could not keep the empty MLflow database for the next start');
        }
      }
      options.logger.info({ url, seconds: Math.round((Date.now() - startedAt) / 1000) }, 'MLflow is up');
    },
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
  // Awaited later; a failure before then must not count as an unhandled rejection.
  ready.catch(() => undefined);
  return { url, log: logFile, ready, stop };
}
