import { Worker } from 'node:worker_threads';
import { createFeaturizer, type FeatureSpec, type Vocabulary } from '@fallback-ctr/model';
import { LearnError, LearnErrorCode } from './errors.js';
import type { FeaturizedBatch } from './featurized-batch.js';
import type { TrialJob, TrialOutcome } from './hyperparameter-search.js';
import { RareTokenDraws, type RareTokenDrawsState } from './rare-token-draws.js';
import type { TrainOptions } from './train.js';

/** What the worker needs to run trials on the search's batch: its arrays (shared when the builder made them so) and how to featurise a row again. */
export interface TrialThreadInit {
  batch: {
    rows: number;
    width: number;
    indices: Uint32Array;
    labels: Uint8Array;
    lineage?: {
      fieldCount: number;
      fieldHashes: Int32Array;
      slots: number[];
      spec: FeatureSpec;
      vocabulary?: Vocabulary;
    };
  };
  options: Omit<TrainOptions, 'rareTokenDraws'>;
  draws?: RareTokenDrawsState;
}

type Reply = { id: number; outcome: TrialOutcome } | { id: number; error: string };

/** The worker's batch and options, rebuilt from what TrialThread.start sent. */
export function fromInit(init: TrialThreadInit): { batch: FeaturizedBatch; options: TrainOptions } {
  const { lineage, ...rest } = init.batch;
  const batch: FeaturizedBatch =
    lineage === undefined
      ? rest
      : {
          ...rest,
          lineage: {
            fieldCount: lineage.fieldCount,
            vocabulary: lineage.vocabulary,
            segments: [
              {
                featurizer: createFeaturizer(lineage.spec, { vocabulary: lineage.vocabulary }),
                fieldHashes: lineage.fieldHashes,
                slots: lineage.slots,
              },
            ],
          },
        };
  const options: TrainOptions = { ...init.options, rareTokenDraws: init.draws && RareTokenDraws.fromState(init.draws) };
  return { batch, options };
}

/**
 * A worker thread that runs search trials (runTrial) on the search's batch, read in place when its
 * arrays live in SharedArrayBuffers (FeaturizedBatchBuilder `shared`), else copied once. Trials are
 * pure functions of the batch and the job, so a trial here gives the numbers it gives on the main thread.
 */
export class TrialThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (o: TrialOutcome) => void; reject: (e: unknown) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('outcome' in reply) waiting.resolve(reply.outcome);
      else
        waiting.reject(
          new LearnError(LearnErrorCode.INPUT_INVALID, `search trial failed on its thread: ${reply.error}`),
        );
    });
    const failAll = (error: unknown) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the search's trial thread exited (code ${code})`)));
    // It keeps the process alive only while a trial is out (a SIGTERM between trials does not wait for it).
    worker.unref();
  }

  static start(train: FeaturizedBatch, options: TrainOptions): TrialThread {
    const lineage = train.lineage;
    const segment = lineage?.segments[0];
    if (lineage !== undefined && (segment === undefined || lineage.segments.length !== 1)) {
      throw new LearnError(
        LearnErrorCode.INPUT_INVALID,
        'a trial thread needs a batch of one featurizer (FeaturizedBatchBuilder)',
      );
    }
    const { rareTokenDraws, ...rest } = options;
    const init: TrialThreadInit = {
      batch: {
        rows: train.rows,
        width: train.width,
        indices: train.indices,
        labels: train.labels,
        ...(lineage && segment
          ? {
              lineage: {
                fieldCount: lineage.fieldCount,
                fieldHashes: segment.fieldHashes,
                slots: [...segment.slots],
                spec: segment.featurizer.spec,
                vocabulary: segment.featurizer.vocabulary,
              },
            }
          : {}),
      },
      options: rest,
      draws: rareTokenDraws?.state,
    };
    return new TrialThread(spawn(init));
  }

  run(job: TrialJob): Promise<TrialOutcome> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * The worker: dist's trial-worker.js when built; from the sources (tsx, vitest) the worker registers
 * tsx's loader before importing trial-worker.ts, with the `source` export condition of the workspace.
 */
function spawn(init: TrialThreadInit): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './trial-worker.ts' : './trial-worker.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: init });
  // Resolved from this file where the runtime can (not from the worker's working directory).
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: init, execArgv: ['--conditions=source'] });
}
