#!/usr/bin/env node
import cluster from 'node:cluster';
import { ConfigError, createLogger } from '@fallback-ctr/runtime';
import { loadConfig } from './config.js';
import { runPrimary } from './primary.js';
import { runWorker } from './worker.js';

/** Entry point: `node dist/main.js` (env configured, see README). The primary forks the workers. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  if (cluster.isPrimary) {
    const logger = createLogger({ name: 'inference', level: config.logLevel, base: { role: 'primary' } });
    await runPrimary({ config, logger });
  } else {
    const logger = createLogger({
      name: 'inference',
      level: config.logLevel,
      base: { role: 'worker', worker: cluster.worker?.id },
    });
    await runWorker(config, logger);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
