import { exited, spawnTypeScript } from './node-child.js';

/** Runs `trainer run` as ops would (a CronJob's one run); fails unless the run exited 0. */
export async function runTrainer(options: { root: string; env: Record<string, string> }): Promise<void> {
  const child = spawnTypeScript({
    root: options.root,
    entry: 'services/trainer/src/bin.ts',
    args: ['run'],
    env: options.env,
  });
  const code = await exited(child);
  if (code !== 0) throw new Error(`trainer run exited with code ${code}; its log lines above say why`);
}
