import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Starts a workspace package's TypeScript entry point with tsx and the "source" export condition,
 * so the demo runs the very code the tests run, without a build step.
 */
export function spawnTypeScript(options: {
  root: string;
  entry: string;
  args?: readonly string[];
  env: Record<string, string>;
}): ChildProcess {
  return spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(options.root, options.entry), ...(options.args ?? [])],
    {
      cwd: options.root,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

/** Resolves with the exit code once the process has exited. */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}
