import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A detached tmux session on a server of its own: a real terminal whose screen a test can read. */
export interface TmuxTerminal {
  /** Everything the terminal showed, scrollback included, wrapped lines joined, escapes dropped. */
  capture(): Promise<string>;
  /** Keys as tmux names them (`C-c`, `Enter`). */
  sendKeys(...keys: string[]): Promise<void>;
  /** Captures until `pattern` shows up; fails with the screen after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  kill(): Promise<void>;
}

/**
 * Starts `command` (a shell command line) in a new tmux session `width` × `height` characters, with
 * `env` as its whole environment (tmux's server starts from it).
 */
export async function startTmux(options: {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  width: number;
  height: number;
}): Promise<TmuxTerminal> {
  const socket = `fctr-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) =>
    run('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: options.env, cwd: options.cwd });
  // A long scrollback, set before the pane exists: the first screenful is gone by the time a test reads it.
  await tmux(
    'start-server',
    ';',
    'set-option',
    '-g',
    'history-limit',
    '50000',
    ';',
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(options.width),
    '-y',
    String(options.height),
    options.command,
  );
  const capture = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main')).stdout;
  return {
    capture,
    async sendKeys(...keys) {
      await tmux('send-keys', '-t', 'main', ...keys);
    },
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = await capture();
        if (pattern.test(screen)) return screen;
        if (Date.now() > deadline)
          throw new Error(`${pattern} did not show in ${timeoutMs} ms; the screen:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async kill() {
      await tmux('kill-server').catch(() => undefined);
    },
  };
}
