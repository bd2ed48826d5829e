import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MlflowClient } from './client.js';
import { createOnce } from './create-once.js';
import { isMlflowError, MlflowError, MlflowErrorCode } from './errors.js';
import { type KeyValues, planLogBatch } from './log-batch-plan.js';
import {
  CreateExperimentResponseSchema,
  EmptyResponseSchema,
  GetExperimentResponseSchema,
  RunResponseSchema,
  RunSchema,
  UpdateRunResponseSchema,
} from './tracking-schemas.js';
import type { Transport } from './transport.js';

const API = '/api/2.0/mlflow';

/** Tag set on runs and model versions so that a retried create finds the first attempt's result. */
export const CREATE_REQUEST_TAG = 'fallback_ctr.create_request_id';

const SearchRunsResponseSchema = z.object({
  runs: z
    .array(RunSchema)
    .optional()
    .transform((r) => r ?? []),
  next_page_token: z.string().optional(),
});

type TrackingApi = Pick<
  MlflowClient,
  | 'getExperimentByName'
  | 'getOrCreateExperiment'
  | 'deleteExperiment'
  | 'createRun'
  | 'finishRun'
  | 'getRun'
  | 'searchAllRuns'
  | 'deleteRun'
  | 'logBatch'
  | 'logMetrics'
  | 'logParams'
  | 'setTags'
>;

function tagList(tags: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

export function createTrackingApi(transport: Transport): TrackingApi {
  const api: TrackingApi = {
    async getExperimentByName(name) {
      try {
        const res = await transport.json({
          method: 'GET',
          path: `${API}/experiments/get-by-name`,
          query: { experiment_name: name },
          schema: GetExperimentResponseSchema,
          retry: 'idempotent',
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
        await transport.json({
          method: 'POST',
          path: `${API}/experiments/create`,
          json: { name, artifact_location: options.artifactLocation, tags: tagList(options.tags) },
          schema: CreateExperimentResponseSchema,
          retry: 'idempotent',
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
      await transport.json({
        method: 'POST',
        path: `${API}/experiments/delete`,
        json: { experiment_id: experimentId },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
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
        create: async () =>
          (
            await transport.json({
              method: 'POST',
              path: `${API}/runs/create`,
              json: body,
              schema: RunResponseSchema,
              retry: 'never',
            })
          ).run,
        findExisting: async () => {
          const res = await transport.json({
            method: 'POST',
            path: `${API}/runs/search`,
            json: {
              experiment_ids: [options.experimentId],
              filter: `tags.\`${CREATE_REQUEST_TAG}\` = '${token}'`,
              max_results: 1,
            },
            schema: SearchRunsResponseSchema,
            retry: 'idempotent',
          });
          return res.runs[0];
        },
      });
    },

    async finishRun(runId, status = 'FINISHED', endTime) {
      const res = await transport.json({
        method: 'POST',
        path: `${API}/runs/update`,
        json: { run_id: runId, status, end_time: endTime ?? Date.now() },
        schema: UpdateRunResponseSchema,
        retry: 'idempotent',
      });
      return res.run_info;
    },

    async getRun(runId) {
      const res = await transport.json({
        method: 'GET',
        path: `${API}/runs/get`,
        query: { run_id: runId },
        schema: RunResponseSchema,
        retry: 'idempotent',
      });
      return res.run;
    },

    async searchAllRuns(options) {
      const runs: z.output<typeof RunSchema>[] = [];
      let pageToken: string | undefined;
      do {
        const page = await transport.json({
          method: 'POST',
          path: `${API}/runs/search`,
          json: {
            experiment_ids: options.experimentIds,
            filter: options.filter ?? '',
            max_results: options.maxResults ?? 100,
            order_by: options.orderBy ?? [],
            ...(pageToken ? { page_token: pageToken } : {}),
          },
          schema: SearchRunsResponseSchema,
          retry: 'idempotent',
        });
        runs.push(...page.runs);
        pageToken = page.next_page_token || undefined;
      } while (pageToken);
      return runs;
    },

    async deleteRun(runId) {
      await transport.json({
        method: 'POST',
        path: `${API}/runs/delete`,
        json: { run_id: runId },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
    },

    async logBatch(runId, batch) {
      const chunks = planLogBatch(batch);
      for (const chunk of chunks) {
        // Re-sending a batch is harmless: same params, tags overwrite, identical metric points are deduplicated.
        await transport.json({
          method: 'POST',
          path: `${API}/runs/log-batch`,
          json: { run_id: runId, ...chunk },
          schema: EmptyResponseSchema,
          retry: 'idempotent',
        });
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
