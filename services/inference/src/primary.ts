import cluster, { type Worker } from 'node:cluster';
import { type MlflowClient, mlflowClientFromEnv } from '@fallback-ctr/mlflow';
import { createShutdown, type Env, type Logger, raceTimer } from '@fallback-ctr/runtime';
import { AggregatorRegistry } from 'prom-client';
import { type FetchedModel, fetchModel } from './champion-loader.js';
import type { InferenceConfig } from './config.js';
import { InferenceErrorCode } from './errors.js';
import { createHandoffFile } from './handoff-file.js';
import { ToPrimarySchema, type ToWorker } from './ipc.js';
import type { ModelMeta } from './model-meta.js';
import { PREDICTION_LOG_CLOSE_MS } from './prediction-log.js';

/** A worker that dies sooner than this after its start counts as a crash: respawns back off. */
const HEALTHY_UPTIME_MS = 10_000;
/** This many crashes in a row and the pod gives up (exit 1, so Kubernetes restarts it and says so). */
export const CRASH_LOOP_LIMIT = 5;

export interface PrimaryOptions {
  config: InferenceConfig;
  logger: Logger;
  env?: Env;
  /** Injected in tests; default: a client from MLFLOW_TRACKING_URI and MLflow's standard variables. */
  client?: MlflowClient;
  exit?: (code: number) => void;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

/**
 * The cluster primary: forks the workers at once, fetches and verifies the artifact ONCE, writes it
 * to a private temp file and hands it to every worker (and every respawned one). Respawns dead
 * workers with backoff, staying alive while none serves (nothing listens then, so readiness fails);
 * exits 1 after CRASH_LOOP_LIMIT crashes in a row, or when the hand-off file itself is bad.
 * SIGTERM/SIGINT: the workers drain, then the primary exits. Exits 1 when the model cannot be
 * loaded (deadline, missing, corrupt, too large). The hand-off file is removed on every way out.
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { config, logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const aggregator = new AggregatorRegistry();
  const handoffFile = createHandoffFile();
  const started = new Map<number, number>();
  /** Workers that have installed their message handlers (they asked for the model). */
  const announced = new Set<number>();
  let handoff: { path: string; meta: ModelMeta } | undefined;
  const shadowFile = createHandoffFile();
  let shadowHandoff: { path: string; meta: ModelMeta } | undefined;
  let crashes = 0;

  const stopBudgetMs = config.drainMs + config.graceMs + (config.predictionLog ? PREDICTION_LOG_CLOSE_MS : 0) + 2_000;
  const shutdown = createShutdown({ logger, timeoutMs: stopBudgetMs + 3_000, exit });
  // Closers run last-registered first: the workers stop, then their hand-off file goes.
  shutdown.register('hand-off file', () => handoffFile.remove());
  shutdown.register('shadow hand-off file', () => shadowFile.remove());
  shutdown.register('workers', () => stopWorkers());
  shutdown.install();
  const fail = (reason: string) => void shutdown.run(reason).then(() => exit(1));

  const post = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };

  async function stopWorkers(): Promise<void> {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = Promise.all(
      workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve())))),
    );
    for (const w of workers) {
      // A worker still starting may not listen for messages yet (they would be lost); its SIGTERM
      // handler, or the default action, stops it just as well.
      if (announced.has(w.id)) post(w, { type: 'fctr:shutdown' });
      else if (!w.isDead()) w.process.kill('SIGTERM');
    }
    const inTime = await raceTimer(
      exited.then(() => true),
      stopBudgetMs,
      () => false,
    );
    if (!inTime) {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
      throw new Error(`workers did not stop within ${stopBudgetMs} ms; killed them`);
    }
  }

  const verifyHandoff = async (workerMessage: string) => {
    if (!handoff) return;
    try {
      await handoffFile.verify(handoff.meta);
    } catch (error) {
      logger.fatal(
        { err: error, code: InferenceErrorCode.HANDOFF_FAILED, workerError: workerMessage },
        'the hand-off file is unreadable or altered; exiting so the pod restarts and downloads the model again',
      );
      fail('hand-off file bad');
    }
  };

  const fork = () => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
    logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker forked');
    worker.on('message', (raw: unknown) => {
      const parsed = ToPrimarySchema.safeParse(raw);
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === 'fctr:want-model') {
        announced.add(worker.id);
        post(worker, handoff ? { type: 'fctr:model', ...handoff } : { type: 'fctr:no-model-yet' });
        if (shadowHandoff) post(worker, { type: 'fctr:shadow-model', ...shadowHandoff });
      } else if (message.type === 'fctr:handoff-failed') {
        void verifyHandoff(message.message);
      } else {
        aggregator
          .clusterMetrics()
          .then((text) => post(worker, { type: 'fctr:metrics', id: message.id, text }))
          .catch((error: unknown) =>
            post(worker, { type: 'fctr:metrics', id: message.id, text: '', error: String(error) }),
          );
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const uptime = Date.now() - (started.get(worker.id) ?? Date.now());
    started.delete(worker.id);
    announced.delete(worker.id);
    if (shutdown.shuttingDown) return;
    crashes = uptime < HEALTHY_UPTIME_MS ? crashes + 1 : 0;
    const live = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).length;
    if (crashes >= CRASH_LOOP_LIMIT) {
      logger.fatal(
        { workerPid: worker.process.pid, code, signal, crashes, liveWorkers: live },
        `workers crashed ${crashes} times in a row, each within ${HEALTHY_UPTIME_MS} ms of starting; exiting so the pod restarts`,
      );
      fail('crash loop');
      return;
    }
    const delayMs = Math.min(10_000, crashes === 0 ? 0 : 250 * 2 ** (crashes - 1));
    logger.error(
      { workerPid: worker.process.pid, code, signal, uptimeMs: uptime, delayMs, crashes, liveWorkers: live },
      live === 0 ? 'worker died; respawning (no worker serves meanwhile: not ready)' : 'worker died; respawning',
    );
    // Not unref'd: with every worker gone, this timer is what keeps the primary alive.
    setTimeout(() => {
      if (!shutdown.shuttingDown) fork();
    }, delayMs);
  });

  for (let i = 0; i < config.workers; i++) fork();
  const auth = config.apiTokens.length > 0;
  logger.info(
    { workers: config.workers, port: config.port, auth: auth ? `bearer (${config.apiTokens.length} tokens)` : 'off' },
    'primary started workers; loading the model',
  );
  if (!auth) logger.warn('API_TOKENS is not set: POST /predict accepts requests without a token');

  const client =
    options.client ??
    mlflowClientFromEnv(options.env ?? process.env, {
      logger,
      timeoutMs: Math.min(10_000, config.startupDeadlineMs),
      artifactTimeoutMs: config.startupDeadlineMs,
      retry: { maxAttempts: 1 },
    });
  try {
    const fetched = await fetchModel({
      client,
      name: config.modelName,
      alias: config.modelAlias,
      version: config.modelVersion,
      deadlineMs: config.startupDeadlineMs,
      maxArtifactBytes: config.maxArtifactBytes,
      logger,
      signal: shutdown.signal,
    });
    if (shutdown.shuttingDown) return;
    const path = await handoffFile.write(fetched.bytes);
    handoff = { path, meta: fetched.meta };
    logger.info(
      {
        model: fetched.meta.name,
        version: fetched.meta.version,
        resolvedFrom: fetched.meta.resolvedFrom,
        sha256: fetched.meta.sha256,
        bytes: fetched.bytes.length,
        handoffPath: path,
      },
      'model fetched and verified; handing it to the workers',
    );
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w && announced.has(w.id)) post(w, { type: 'fctr:model', ...handoff });
    }
  } catch (error) {
    if (shutdown.shuttingDown) return;
    logger.fatal({ err: error, code: errorCode(error) }, 'cannot load the model; exiting so the pod restarts');
    fail('model load failed');
    return;
  }
  if (config.shadow) {
    const shadow = await fetchShadow({ config, client, logger, signal: shutdown.signal, served: handoff.meta });
    if (shadow === undefined || shutdown.shuttingDown) return;
    const path = await shadowFile.write(shadow.bytes);
    shadowHandoff = { path, meta: shadow.meta };
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w && announced.has(w.id)) post(w, { type: 'fctr:shadow-model', ...shadowHandoff });
    }
  }
}

/**
 * The challenger of SHADOW_ALIAS, fetched and verified like the model, AFTER the model is out to the
 * workers: the pod is ready without it. Shadow scoring is optional, so nothing here stops the pod:
 * a missing alias (not waited for), a rejected artifact, MLflow failing until the deadline, or the
 * challenger being the served version itself all log why and leave shadow off until the next start.
 */
async function fetchShadow(options: {
  config: InferenceConfig;
  client: MlflowClient;
  logger: Logger;
  signal: AbortSignal;
  served: ModelMeta;
}): Promise<FetchedModel | undefined> {
  const { config, logger, served } = options;
  const alias = config.shadow?.alias ?? '';
  try {
    const fetched = await fetchModel({
      client: options.client,
      name: config.modelName,
      alias,
      awaitAlias: false,
      deadlineMs: config.startupDeadlineMs,
      maxArtifactBytes: config.maxArtifactBytes,
      logger,
      signal: options.signal,
    });
    if (fetched.meta.version === served.version) {
      logger.info(
        { shadowAlias: alias, version: served.version },
        'the shadow alias names the served version itself: shadow scoring off',
      );
      return undefined;
    }
    logger.info(
      {
        shadowAlias: alias,
        shadowVersion: fetched.meta.version,
        share: config.shadow?.share,
        sha256: fetched.meta.sha256,
        bytes: fetched.bytes.length,
      },
      'challenger fetched and verified; scoring it in shadow',
    );
    return fetched;
  } catch (error) {
    if (options.signal.aborted) return undefined;
    const code = errorCode(error);
    const missing = code === InferenceErrorCode.MODEL_NOT_FOUND;
    logger[missing ? 'warn' : 'error'](
      { err: error, code, shadowAlias: alias },
      missing
        ? `no version has the alias "${alias}": shadow scoring off (serving the model alone)`
        : 'cannot load the challenger: shadow scoring off (serving the model alone)',
    );
    return undefined;
  }
}
