// The search's trial thread (TrialThread): runs the trials it is sent on the batch it was started with.
import { parentPort, workerData } from 'node:worker_threads';
import { runTrial, type TrialJob } from './hyperparameter-search.js';
import { fromInit, type TrialThreadInit } from './trial-thread.js';

const { batch, options } = fromInit(workerData as TrialThreadInit);
parentPort?.on('message', ({ id, job }: { id: number; job: TrialJob }) => {
  try {
    parentPort?.postMessage({ id, outcome: runTrial(batch, options, job) });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
