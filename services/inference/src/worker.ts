import { readFile } from 'node:fs/promises';
import { createShutdown, errorMessage, type Logger, raceTimer } from '@fallback-ctr/runtime';
import { AggregatorRegistry } from 'prom-client';
import { loadedModelFromBytes } from './champion-loader.js';
import type { InferenceConfig } from './config.js';
import { type HttpServer, startHttpServer } from './http-server.js';
import { type ToPrimary, type ToWorker, ToWorkerSchema } from './ipc.js';
import { createMetrics } from './metrics.js';
import { createModelHolder } from './model-holder.js';
import { createInferencePredictionLog, PREDICTION_LOG_CLOSE_MS } from './prediction-log.js';

/** How long a worker waits for the primary's pod-wide metrics aggregate. */
const METRICS_ANSWER_MS = 6_000;

function send(message: ToPrimary): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send?.(message, undefined, {}, () => resolve())) resolve();
  });
}

/**
 * A cluster worker. It asks the primary for the model first: a worker (re)started once the pod has
 * its model loads it before it listens, so the primary never routes a connection to a worker that
 * cannot serve; during start-up (no model yet) it listens at once (liveness OK, readiness 503) and
 * loads the model when it comes. Serves until told to shut down (or SIGTERM/SIGINT), then drains.
 */
export async function runWorker(config: InferenceConfig, baseLogger: Logger): Promise<void> {
  // Once the model is loaded, every worker line names it.
  let logger = baseLogger;
  const holder = createModelHolder();
  const shadowHolder = createModelHolder();
  const metrics = createMetrics();
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one installs prom-client's listener that answers the primary's metrics requests.
  new AggregatorRegistry();

  let nextId = 0;
  const pending = new Map<number, (answer: { text: string } | { error: string }) => void>();
  const podMetrics = () => {
    const id = nextId++;
    const answered = new Promise<string>((resolve, reject) => {
      pending.set(id, (answer) => ('text' in answer ? resolve(answer.text) : reject(new Error(answer.error))));
    });
    void send({ type: 'fctr:metrics-request', id });
    return raceTimer(answered, METRICS_ANSWER_MS, () => {
      throw new Error(`the cluster primary did not answer the metrics request within ${METRICS_ANSWER_MS} ms`);
    }).finally(() => pending.delete(id));
  };

  let server: HttpServer | undefined;
  const predictionLog = config.predictionLog
    ? createInferencePredictionLog(config.predictionLog, metrics, baseLogger)
    : undefined;
  const shutdown = createShutdown({
    logger: baseLogger,
    timeoutMs: config.drainMs + config.graceMs + PREDICTION_LOG_CLOSE_MS + 1_000,
  });
  // Closers run last-registered first: the server drains, then the log writes what the last requests queued.
  if (predictionLog) shutdown.register('prediction log', () => predictionLog.close(PREDICTION_LOG_CLOSE_MS));
  shutdown.register('http server', async () => {
    // Never loaded a model: nothing routes here, no drain. Not listening yet: `listen` stops it.
    if (server && !(await server.drain({ skipDrainDelay: holder.get() === undefined }))) {
      throw new Error('in-flight requests outlived SHUTDOWN_GRACE_SECONDS');
    }
  });
  shutdown.install();
  const stop = (reason: string) => void shutdown.run(reason).then((clean) => process.exit(clean ? 0 : 1));

  let listening: Promise<void> | undefined;
  const listen = () => {
    listening ??= (async () => {
      server = await startHttpServer({
        config,
        holder,
        logger: baseLogger,
        metrics,
        metricsText: podMetrics,
        ...(config.shadow ? { shadow: { holder: shadowHolder, share: config.shadow.share } } : {}),
        predictionLog,
      });
      if (shutdown.shuttingDown) {
        await server.drain({ skipDrainDelay: true });
        process.exit(0);
      }
      logger.info({ url: server.url, ready: holder.get() !== undefined }, 'worker listening');
    })();
    return listening;
  };

  const load = async (message: Extract<ToWorker, { type: 'fctr:model' }>) => {
    try {
      const model = loadedModelFromBytes(message.meta, await readFile(message.path));
      holder.set(model);
      logger = baseLogger.child({ model: model.name, version: model.version });
      logger.info({ sha256: model.artifact.sha256 }, 'model loaded: ready');
    } catch (error) {
      logger.fatal({ err: error }, 'cannot load the artifact handed over by the primary');
      await send({ type: 'fctr:handoff-failed', message: errorMessage(error) });
      process.exit(1);
    }
    await listen();
  };

  // The challenger is optional: a worker that cannot load it serves without shadow scoring.
  const loadShadow = async (message: Extract<ToWorker, { type: 'fctr:shadow-model' }>) => {
    try {
      const model = loadedModelFromBytes(message.meta, await readFile(message.path));
      shadowHolder.set(model);
      logger.info(
        { shadowVersion: model.version, share: config.shadow?.share },
        'challenger loaded: scoring in shadow',
      );
    } catch (error) {
      logger.error({ err: error }, 'cannot load the challenger handed over: shadow scoring off in this worker');
    }
  };

  process.on('message', (raw: unknown) => {
    const parsed = ToWorkerSchema.safeParse(raw);
    if (!parsed.success) return; // prom-client's own messages share the channel
    const message: ToWorker = parsed.data;
    switch (message.type) {
      case 'fctr:model':
        if (!holder.get()) void load(message);
        return;
      case 'fctr:shadow-model':
        if (config.shadow && !shadowHolder.get()) void loadShadow(message);
        return;
      case 'fctr:no-model-yet':
        void listen();
        return;
      case 'fctr:shutdown':
        stop('primary asked');
        return;
      case 'fctr:metrics':
        pending.get(message.id)?.(message.error !== undefined ? { error: message.error } : { text: message.text });
        return;
    }
  });
  // The primary died: nobody will respawn, hand over or aggregate; stop cleanly.
  process.on('disconnect', () => stop('primary disconnected'));
  await send({ type: 'fctr:want-model' });
}
