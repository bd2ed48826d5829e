import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/demo/free-port.js';

const script = fileURLToPath(new URL('../../scripts/pushgateway.sh', import.meta.url));

/**
 * Whether a real Prometheus Pushgateway can be had here: cached by scripts/pushgateway.sh, or a Go to
 * build it with. Decided when a test file loads, so a test that needs it can be skipped with a notice
 * (printed once) instead of failing where no Go exists, as the cluster tests are.
 */
export const PUSHGATEWAY_AVAILABLE: boolean = (() => {
  const ok = spawnSync('bash', [script, 'buildable']).status === 0;
  if (!ok) {
    console.warn(
      'SKIPPING the real-Pushgateway checks: none cached and no Go to build one (bash scripts/pushgateway.sh build needs Go, https://go.dev/dl/)',
    );
  }
  return ok;
})();

export interface Pushgateway {
  url: string;
  /** The Pushgateway's own /metrics: every group pushed to it, as Prometheus would scrape it. */
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Waits until `check` resolves true, or the child exits, or the deadline passes. */
async function until(check: () => Promise<boolean>, child: ChildProcess, deadlineMs: number, what: string) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (exited(child)) throw new Error(`the Pushgateway exited (${child.exitCode ?? child.signalCode}) before ${what}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`the Pushgateway was not ${what} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Builds the Pushgateway when it is not cached (scripts/pushgateway.sh) and starts it on a free loopback
 * port, in memory (no persistence file); `stop()` ends it.
 */
export async function startPushgateway(): Promise<Pushgateway> {
  execFileSync('bash', [script, 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const binary = execFileSync('bash', [script, 'path'], { encoding: 'utf8' }).trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await until(async () => (await fetch(`${url}/-/ready`)).ok, child, 60_000, 'ready');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    async scrape() {
      const response = await fetch(`${url}/metrics`);
      if (!response.ok) throw new Error(`GET ${url}/metrics answered ${response.status}`);
      return response.text();
    },
    async stop() {
      if (exited(child)) return;
      const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await ended;
    },
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values unescaped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}
