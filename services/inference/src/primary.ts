import cluster, { type Worker } from 'node:cluster';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MlflowClient, mlflowClientFromEnv } from '@fallback-ctr/mlflow';
import type { Env } from '@fallback-ctr/runtime';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { fetchModel } from './champion-loader.js';
import type { InferenceConfig } from './config.js';
import { ToPrimarySchema, type ToWorker } from './ipc.js';
import type { ModelMeta } from './model-meta.js';

/** A worker that dies sooner than this after its start counts as a crash loop: respawns back off. */
const HEALTHY_UPTIME_MS = 10_000;

export interface PrimaryOptions {
  config: InferenceConfig;
  logger: Logger;
  env?: Env;
  /** Injected in tests; default: a client from MLFLOW_TRACKING_URI and MLflow's standard variables. */
  client?: MlflowClient;
  exit?: (code: number) => void;
}

/**
 * The cluster primary: forks the workers at once (they listen, not ready), fetches and verifies
 * the artifact ONCE, writes it to a private temp file and tells every worker (and every respawned
 * one) to load it. Respawns dead workers. On SIGTERM/SIGINT tells the workers to drain, waits for
 * them, and exits. Exits 1 when the model cannot be loaded (deadline, missing, corrupt).
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { config, logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const aggregator = new AggregatorRegistry();
  const abort = new AbortController();
  const started = new Map<number, number>();
  /** Workers that have installed their message handlers (they asked for the model). */
  const announced = new Set<number>();
  let handoff: { path: string; meta: ModelMeta } | undefined;
  let tempDir: string | undefined;
  let stopping = false;
  let crashes = 0;

  const post = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };

  const fork = () => {
    const worker = cluster.fork();
    started.set(worker.id, Date.now());
    worker.on('message', (raw: unknown) => {
      const parsed = ToPrimarySchema.safeParse(raw);
      if (!parsed.success) return;
      const message = parsed.data;
      if (message.type === 'fctr:want-model') {
        announced.add(worker.id);
        if (handoff) post(worker, { type: 'fctr:model', ...handoff });
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
    if (stopping) return;
    crashes = uptime < HEALTHY_UPTIME_MS ? crashes + 1 : 0;
    const delayMs = Math.min(10_000, crashes === 0 ? 0 : 250 * 2 ** (crashes - 1));
    logger.error({ workerPid: worker.process.pid, code, signal, uptimeMs: uptime, delayMs }, 'worker died; respawning');
    setTimeout(() => {
      if (!stopping) fork();
    }, delayMs).unref();
  });

  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    abort.abort(new Error(reason));
    logger.info({ reason }, 'primary stopping: draining workers');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exited = Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) resolve();
            else w.once('exit', () => resolve());
          }),
      ),
    );
    for (const w of workers) {
      // A worker still starting may not listen for messages yet (they would be lost); its SIGTERM
      // handler, or the default action, stops it just as well.
      if (announced.has(w.id)) post(w, { type: 'fctr:shutdown' });
      else if (!w.isDead()) w.process.kill('SIGTERM');
    }
    const budgetMs = config.drainMs + config.graceMs + 2_000;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), budgetMs);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      logger.error({ budgetMs }, 'workers did not stop in time; killing them');
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    exit(inTime ? code : 1);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(signal, 0));

  for (let i = 0; i < config.workers; i++) fork();
  logger.info({ workers: config.workers, port: config.port }, 'primary started workers; loading the model');

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
      logger,
      signal: abort.signal,
    });
    if (stopping) return;
    tempDir = await mkdtemp(join(tmpdir(), 'fallback-ctr-model-'));
    const path = join(tempDir, 'artifact.json');
    await writeFile(path, fetched.bytes, { mode: 0o600 });
    handoff = { path, meta: fetched.meta };
    logger.info(
      {
        model: fetched.meta.name,
        version: fetched.meta.version,
        resolvedFrom: fetched.meta.resolvedFrom,
        sha256: fetched.meta.sha256,
        bytes: fetched.bytes.length,
      },
      'model fetched and verified; handing it to the workers',
    );
    for (const w of Object.values(cluster.workers ?? {})) if (w) post(w, { type: 'fctr:model', ...handoff });
  } catch (error) {
    if (stopping) return;
    const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
    logger.fatal({ err: error, code }, 'cannot load the model; exiting so the pod restarts');
    await shutdown('model load failed', 1);
  }
}
