import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CREATE_REQUEST_TAG, createOnce } from './create-once.js';
import { endpointCaller } from './endpoint.js';
import { isMlflowError, MlflowError, MlflowErrorCode } from './errors.js';
import { type KeyValues, type LogBatchInput, type ParamValue, planLogBatch } from './log-batch-plan.js';
import {
  CreateExperimentResponseSchema,
  EmptyResponseSchema,
  type Experiment,
  GetExperimentResponseSchema,
  type Run,
  type RunInfo,
  RunResponseSchema,
  RunSchema,
  repeated,
  type TerminalRunStatus,
  UpdateRunResponseSchema,
} from './tracking-schemas.js';
import type { Transport } from './transport.js';

const SearchRunsResponseSchema = z.object({
  runs: repeated(RunSchema),
  next_page_token: z.string().optional(),
});

export interface CreateExperimentOptions {
  /** Only for a new experiment; leave unset so artifacts go through the server's proxy. */
  artifactLocation?: string;
  tags?: Record<string, string>;
}

export interface CreateRunOptions {
  experimentId: string;
  runName?: string;
  /** ms since the epoch; defaults to now. */
  startTime?: number;
  tags?: Record<string, string>;
}

export interface SearchRunsOptions {
  experimentIds: readonly string[];
  /** MLflow filter string, e.g. "attributes.status = 'RUNNING' AND tags.`k` = 'v'". */
  filter?: string;
  /** Page size (default 100 here, server maximum 50 000). */
  maxResults?: number;
  orderBy?: readonly string[];
}

/** Experiments, runs, and what is logged into a run. */
export interface TrackingApi {
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  /** Returns the experiment, creating it when missing; safe when several processes race. */
  getOrCreateExperiment(name: string, options?: CreateExperimentOptions): Promise<Experiment>;
  deleteExperiment(experimentId: string): Promise<void>;
  /** Sets (or overwrites) one tag of an experiment, e.g. `mlflow.experimentKind`. */
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  createRun(options: CreateRunOptions): Promise<Run>;
  /** Ends a run with FINISHED (default), FAILED or KILLED. */
  finishRun(runId: string, status?: TerminalRunStatus, endTime?: number): Promise<RunInfo>;
  /** Changes the name MLflow shows for a run. */
  renameRun(runId: string, runName: string): Promise<void>;
  getRun(runId: string): Promise<Run>;
  /** Every run matching the search, all pages read (active runs only, as MLflow's default view). */
  searchAllRuns(options: SearchRunsOptions): Promise<Run[]>;
  /** Logs any number of metrics, params and tags, split into requests within the server's limits. */
  logBatch(runId: string, batch: LogBatchInput): Promise<void>;
  logMetrics(
    runId: string,
    metrics: Record<string, number>,
    options?: { step?: number; timestamp?: number },
  ): Promise<void>;
  logParams(runId: string, params: Record<string, ParamValue>): Promise<void>;
  setTags(runId: string, tags: KeyValues): Promise<void>;
}

function tagList(tags: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

export function createTrackingApi(transport: Transport): TrackingApi {
  const call = endpointCaller(transport);
  const api: TrackingApi = {
    async getExperimentByName(name) {
      try {
        const res = await call('GET', 'experiments/get-by-name', GetExperimentResponseSchema, {
          experiment_name: name,
        });
        return res.experiment;
      } catch (error) {
        if (isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) return undefined;
        throw error;
      }
    },

    async getOrCreateExperiment(name, options = {}) {
      const existing = await api.getExperimentByName(name);
      if (existing) return checkActive(existing);
      try {
        // A retried create that already succeeded answers RESOURCE_ALREADY_EXISTS: handled below.
        await call('POST', 'experiments/create', CreateExperimentResponseSchema, {
          name,
          artifact_location: options.artifactLocation,
          tags: tagList(options.tags),
        });
      } catch (error) {
        if (!isMlflowError(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
      }
      const created = await api.getExperimentByName(name);
      if (!created) {
        throw new MlflowError(MlflowErrorCode.API, `experiment "${name}" was created but cannot be read back`);
      }
      return checkActive(created);
    },

    async deleteExperiment(experimentId) {
      await call('POST', 'experiments/delete', EmptyResponseSchema, { experiment_id: experimentId });
    },

    async createRun(options) {
      const token = randomUUID();
      const body = {
        experiment_id: options.experimentId,
        run_name: options.runName,
        start_time: options.startTime ?? Date.now(),
        tags: [...tagList(options.tags), { key: CREATE_REQUEST_TAG, value: token }],
      };
      return createOnce(transport, {
        create: async () => (await call('POST', 'runs/create', RunResponseSchema, body, 'never')).run,
        findExisting: async () => {
          const res = await call('POST', 'runs/search', SearchRunsResponseSchema, {
            experiment_ids: [options.experimentId],
            filter: `tags.\`${CREATE_REQUEST_TAG}\` = '${token}'`,
            max_results: 1,
          });
          return res.runs[0];
        },
      });
    },

    async finishRun(runId, status = 'FINISHED', endTime) {
      const res = await call('POST', 'runs/update', UpdateRunResponseSchema, {
        run_id: runId,
        status,
        end_time: endTime ?? Date.now(),
      });
      return res.run_info;
    },

    async setExperimentTag(experimentId, key, value) {
      await call('POST', 'experiments/set-experiment-tag', EmptyResponseSchema, {
        experiment_id: experimentId,
        key,
        value,
      });
    },

    async renameRun(runId, runName) {
      await call('POST', 'runs/update', UpdateRunResponseSchema, { run_id: runId, run_name: runName });
    },

    async getRun(runId) {
      const res = await call('GET', 'runs/get', RunResponseSchema, { run_id: runId });
      return res.run;
    },

    async searchAllRuns(options) {
      const runs: z.output<typeof RunSchema>[] = [];
      let pageToken: string | undefined;
      do {
        const page = await call('POST', 'runs/search', SearchRunsResponseSchema, {
          experiment_ids: options.experimentIds,
          filter: options.filter ?? '',
          max_results: options.maxResults ?? 100,
          order_by: options.orderBy ?? [],
          ...(pageToken ? { page_token: pageToken } : {}),
        });
        runs.push(...page.runs);
        pageToken = page.next_page_token || undefined;
      } while (pageToken);
      return runs;
    },

    async logBatch(runId, batch) {
      const chunks = planLogBatch(batch);
      for (const chunk of chunks) {
        // Re-sending a batch is harmless: same params, tags overwrite, identical metric points are deduplicated.
        await call('POST', 'runs/log-batch', EmptyResponseSchema, { run_id: runId, ...chunk });
      }
      transport.logger?.debug({ runId, requests: chunks.length }, 'mlflow batch logged');
    },

    logMetrics(runId, metrics, options = {}) {
      const timestamp = options.timestamp ?? Date.now();
      return api.logBatch(runId, {
        metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp, step: options.step ?? 0 })),
      });
    },

    logParams(runId, params) {
      return api.logBatch(runId, { params });
    },

    setTags(runId, tags: KeyValues) {
      return api.logBatch(runId, { tags });
    },
  };
  return api;
}

function checkActive<T extends { name: string; lifecycleStage: string | undefined }>(experiment: T): T {
  if (experiment.lifecycleStage === 'deleted') {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `experiment "${experiment.name}" is deleted: restore it in MLflow or use another name`,
    );
  }
  return experiment;
}
