import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LogSink } from './log-lines.js';

/**
 * Starts a workspace package's TypeScript entry point with tsx and the "source" export condition,
 * so the demo runs the very code the tests run, without a build step. Its output goes through the
 * demo's log sink (readable lines on a terminal).
 */
export function spawnTypeScript(options: {
  root: string;
  entry: string;
  args?: readonly string[];
  env: Record<string, string>;
  output: LogSink;
  /**
   * In a process group of its own: Ctrl-C on the terminal then reaches only the demo, which stops the
   * child itself, in its order (else the child got SIGINT and then the demo's SIGTERM, a "second signal").
   */
  ownProcessGroup?: boolean;
}): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(options.root, options.entry), ...(options.args ?? [])],
    {
      cwd: options.root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.ownProcessGroup === true,
    },
  );
  child.stdout?.pipe(options.output.stream());
  child.stderr?.pipe(options.output.stream());
  return child;
}

/** Resolves with the exit code once the process has exited. */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}
