import type { LogSink } from './log-lines.js';
import { exited, spawnTypeScript } from './node-child.js';

/** Runs `trainer run` as ops would (a CronJob's one run); fails unless the run exited 0. */
export async function runTrainer(options: {
  root: string;
  env: Record<string, string>;
  output: LogSink;
}): Promise<void> {
  const child = spawnTypeScript({
    root: options.root,
    entry: 'services/trainer/src/bin.ts',
    args: ['run'],
    env: options.env,
    output: options.output,
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`trainer run exited with code ${code}; its log lines above say why`);
}
