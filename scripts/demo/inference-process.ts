import { setTimeout as sleep } from 'node:timers/promises';
import type { LogSink } from './log-lines.js';
import { exited, spawnTypeScript } from './node-child.js';

export interface InferenceProcess {
  url: string;
  stop(): Promise<void>;
}

export interface PredictResult {
  model: { name: string; version: string };
  predictions: { id: string | undefined; ctr: number }[];
}

/**
 * Starts the inference API (primary + workers) and waits until GET /readyz answers 200 and every
 * worker has said it listens, so nothing of its start-up prints after what the demo says next.
 */
export async function startInference(options: {
  root: string;
  env: Record<string, string> & { HOST: string; PORT: string };
  output: LogSink;
  readyTimeoutMs?: number;
}): Promise<InferenceProcess> {
  const child = spawnTypeScript({
    root: options.root,
    entry: 'services/inference/src/main.ts',
    env: options.env,
    output: options.output,
    ownProcessGroup: true,
  });
  // Their "worker listening" lines are info lines: below that level there is nothing to wait for.
  const level = options.env.LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  const workers = ['trace', 'debug', 'info'].includes(level) ? Number(options.env.WORKERS ?? '1') : 0;
  let listening = 0;
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    listening += lines.filter((line) => line.includes('"msg":"worker listening"')).length;
  });
  const url = `http://${options.env.HOST}:${options.env.PORT}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await exited(child);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `the inference API exited (code ${child.exitCode}) before it was ready; its log lines above say why`,
      );
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200 && listening >= workers) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  await stop();
  throw new Error(`inference was not ready at ${url}/readyz in time`);
}

/** POST /predict with a batch of raw impressions. */
export async function predict(url: string, impressions: readonly Record<string, unknown>[]): Promise<PredictResult> {
  const response = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ impressions }),
  });
  const body = (await response.json()) as {
    model: string;
    version: string;
    predictions: { id?: string; ctr: number }[];
  };
  if (response.status !== 200) throw new Error(`POST /predict answered ${response.status}: ${JSON.stringify(body)}`);
  return {
    model: { name: body.model, version: body.version },
    predictions: body.predictions.map((p) => ({ id: p.id, ctr: p.ctr })),
  };
}
