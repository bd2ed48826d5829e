import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { freePort } from '../../../scripts/demo/free-port.js';
import { trackingUri } from '../../../test/support/set-up-env.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/**
 * How long a wait on the server process may take by default: generous, because a worker that runs
 * TypeScript through tsx takes seconds to start on an idle machine and tens of seconds at load 20+.
 * Waits end as soon as their condition holds, so a fast machine does not pay for it.
 */
export const PROCESS_WAIT_MS = 150_000;

/** Timeout of a test that starts a server process and waits on it a few times. */
export const PROCESS_TEST_TIMEOUT_MS = 480_000;

export interface LogLine {
  level: string;
  msg: string;
  pid: number;
  role?: string;
  code?: string;
  err?: { message?: string; code?: string };
  [key: string]: unknown;
}

/** The real server (src/main.ts: cluster primary + workers) as a child process, its JSON logs collected. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  logs: LogLine[];
  /** Resolves with the exit code (null if killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves with the first log line matching, rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Polls `path` until `accept(status)`, rejects after `timeoutMs`. */
  waitForStatus(path: string, accept: (status: number) => boolean, timeoutMs?: number): Promise<number>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * For a test file: a list to push the servers it starts onto; after each test every one of them is
 * killed (SIGKILL) and awaited, and the list emptied.
 */
export function killedAfterEach(): ServerProcess[] {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.kill('SIGKILL');
      await s.exited;
    }
  });
  return servers;
}

/** The real server on a free port, serving `modelName` from the test set-up's MLflow; `env` adds to or overrides that. */
export async function serveModel(modelName: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer(await freePort(), { MLFLOW_TRACKING_URI: trackingUri(), MODEL_NAME: modelName, ...env });
}

export function spawnServer(port: number, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', mainTs], {
    cwd: repoRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKERS: '1',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_SECONDS: '0.2',
      SHUTDOWN_GRACE_SECONDS: '5',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 'raw', msg: line, pid: 0 });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    url,
    logs,
    exited,
    waitForLog(match, timeoutMs = PROCESS_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; logs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}\nstderr:\n${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async waitForStatus(path, accept, timeoutMs = PROCESS_WAIT_MS) {
      const deadline = Date.now() + timeoutMs;
      let last = 0;
      while (Date.now() < deadline) {
        last = await fetch(`${url}${path}`).then(
          (r) => r.status,
          () => 0,
        );
        if (accept(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`GET ${path} still ${last} after ${timeoutMs} ms; stderr:\n${stderr}`);
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Sum of a Prometheus sample over its labels in the server's pod-wide /metrics; 0 when absent. */
export async function metricSum(url: string, metric: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric} `) || line.startsWith(`${metric}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
