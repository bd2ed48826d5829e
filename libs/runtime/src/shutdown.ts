import { FallbackCtrError, RuntimeErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { raceTimer } from './race-timer.js';

export type Closer = () => Promise<void> | void;

export interface ShutdownOptions {
  logger?: Logger;
  /** Time for all closers together. Default 10 s. */
  timeoutMs?: number;
  signals?: readonly NodeJS.Signals[];
  /** Called with the exit code once closers are done; default process.exit. */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /**
   * Adds a closer. Closers run in reverse order of registration: what started last stops first, so a
   * server stops before the database or registry it depends on.
   */
  register(name: string, closer: Closer): void;
  /** Runs the closers once (later calls return the same promise). Resolves true when all closed in time. */
  run(reason: string): Promise<boolean>;
  /** Installs the signal handlers: first signal runs the closers then exits, a second exits at once. */
  install(): void;
  /** Removes the signal handlers. */
  dispose(): void;
  readonly shuttingDown: boolean;
  /** Aborted when shutdown starts: pass it to long-running work so it stops. */
  readonly signal: AbortSignal;
}

export function createShutdown(options: ShutdownOptions = {}): Shutdown {
  const closers: { name: string; closer: Closer }[] = [];
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let running: Promise<boolean> | undefined;

  async function closeAll(reason: string): Promise<boolean> {
    options.logger?.info({ reason }, 'shutting down');
    controller.abort(new Error(`shutdown: ${reason}`));
    let clean = true;
    for (const { name, closer } of [...closers].reverse()) {
      try {
        await closer();
        options.logger?.debug({ closer: name }, 'closed');
      } catch (error) {
        clean = false;
        options.logger?.error({ closer: name, err: error }, 'closer failed');
      }
    }
    return clean;
  }

  function run(reason: string): Promise<boolean> {
    running ??= raceTimer(
      closeAll(reason),
      timeoutMs,
      () => {
        options.logger?.error(
          { code: RuntimeErrorCode.SHUTDOWN_TIMEOUT, timeoutMs },
          `shutdown did not finish within ${timeoutMs} ms`,
        );
        return false;
      },
      { unref: true },
    );
    return running;
  }

  const handler = (signal: NodeJS.Signals) => {
    if (running) {
      options.logger?.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    void run(signal).then((clean) => exit(clean ? 0 : 1));
  };

  return {
    register(name, closer) {
      if (running)
        throw new FallbackCtrError(
          RuntimeErrorCode.SHUTDOWN_STARTED,
          `cannot register "${name}": shutdown has started`,
        );
      closers.push({ name, closer });
    },
    run,
    install() {
      for (const s of signals) process.on(s, handler);
    },
    dispose() {
      for (const s of signals) process.off(s, handler);
    },
    get shuttingDown() {
      return running !== undefined;
    },
    get signal() {
      return controller.signal;
    },
  };
}
