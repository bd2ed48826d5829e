import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@fallback-ctr/runtime';
import { freePort } from './free-port.js';
import { sqliteMlflowServer, stopProcessGroup, waitMlflowHealthy } from './mlflow-server-process.js';

export interface LocalMlflow {
  url: string;
  log: string;
  /** Resolves once GET /health answers; rejects (after stopping the server) if it never does. */
  ready: Promise<void>;
  stop(): Promise<void>;
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
  const server = sqliteMlflowServer(database, port);
  const child = spawn(
    join(options.venv, 'bin', 'mlflow'),
    [
      ...server.args,
      '--artifacts-destination',
      join(options.dataDir, 'artifacts'),
      '--serve-artifacts',
      // Longer than the client's idle sockets live (undici: 4 s), so the server never closes one the client
      // is just reusing (uvicorn's 5 s default raced it on a loaded machine: "other side closed").
      '--uvicorn-opts',
      '--timeout-keep-alive 60',
    ],
    { detached: true, stdio: ['ignore', log, log], env: server.env },
  );
  const stop = () => stopProcessGroup(child);
  const logFile = join(options.dataDir, 'mlflow.log');
  options.logger.info({ url, log: logFile }, 'starting MLflow (SQLite backend) in the background');
  const startedAt = Date.now();
  // Ten minutes: a loaded 2-core machine took 112 s for the imports and SQLite migrations, and more than 120 s once.
  const ready = waitMlflowHealthy(url, child, options.timeoutMs ?? 600_000, (seconds) =>
    options.logger.info({ seconds }, 'MLflow is still starting'),
  ).then(
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
