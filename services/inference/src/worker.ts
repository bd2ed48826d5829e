import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { loadedModelFromBytes } from './champion-loader.js';
import type { InferenceConfig } from './config.js';
import { type HttpServer, startHttpServer } from './http-server.js';
import { type ToPrimary, type ToWorker, ToWorkerSchema } from './ipc.js';
import { createMetrics } from './metrics.js';
import { createModelHolder } from './model-holder.js';

function send(message: ToPrimary): void {
  process.send?.(message);
}

/**
 * A cluster worker: listens at once (liveness OK, readiness 503), loads the artifact the primary
 * fetched and verified, serves until told to shut down (or SIGTERM/SIGINT), then drains and exits.
 */
export async function runWorker(config: InferenceConfig, baseLogger: Logger): Promise<void> {
  // Once the model is loaded, every worker line names it.
  let logger = baseLogger;
  const holder = createModelHolder();
  const metrics = createMetrics();
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one installs prom-client's listener that answers the primary's metrics requests.
  new AggregatorRegistry();

  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  const podMetrics = () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer the metrics request within 6 s'));
      }, 6_000);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      send({ type: 'fctr:metrics-request', id });
    });

  let server: HttpServer | undefined;
  let stopReason: string | undefined;
  const stop = (reason: string) => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    logger.info({ reason }, 'worker stopping');
    // Still starting: stop right after listen (below). Never loaded a model: nothing routes here, no drain.
    if (!server) return;
    void server.drain({ skipDrainDelay: holder.get() === undefined }).then((clean) => process.exit(clean ? 0 : 1));
  };

  process.on('message', (raw: unknown) => {
    const parsed = ToWorkerSchema.safeParse(raw);
    if (!parsed.success) return; // prom-client's own messages share the channel
    const message: ToWorker = parsed.data;
    switch (message.type) {
      case 'fctr:model':
        if (holder.get()) return;
        readFile(message.path)
          .then((bytes) => {
            const model = loadedModelFromBytes(message.meta, bytes);
            holder.set(model);
            logger = baseLogger.child({ model: model.name, version: model.version });
            logger.info({ sha256: model.artifact.sha256 }, 'model loaded: ready');
          })
          .catch((error: unknown) => {
            logger.fatal({ err: error }, 'cannot load the artifact handed over by the primary');
            process.exit(1);
          });
        return;
      case 'fctr:shutdown':
        stop('primary asked');
        return;
      case 'fctr:metrics': {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.text);
        return;
      }
    }
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal));
  // The primary died: nobody will respawn, hand over or aggregate; stop cleanly.
  process.on('disconnect', () => stop('primary disconnected'));

  server = await startHttpServer({ config, holder, logger: baseLogger, metrics, metricsText: podMetrics });
  if (stopReason !== undefined) {
    await server.drain({ skipDrainDelay: true });
    process.exit(0);
  }
  send({ type: 'fctr:want-model' });
  logger.info({ url: server.url }, 'worker listening (not ready until the model is loaded)');
}
