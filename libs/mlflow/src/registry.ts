import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactApi } from './artifacts.js';
import type { MlflowClient } from './client.js';
import { createOnce } from './create-once.js';
import { isMlflowError, MlflowError, MlflowErrorCode } from './errors.js';
import {
  DownloadUriResponseSchema,
  type ModelVersion,
  ModelVersionResponseSchema,
  RegisteredModelResponseSchema,
  SearchModelVersionsResponseSchema,
} from './registry-schemas.js';
import { CREATE_REQUEST_TAG } from './tracking.js';
import { EmptyResponseSchema } from './tracking-schemas.js';
import type { Transport } from './transport.js';

const API = '/api/2.0/mlflow';
const ALIAS_PATTERN = /^[\w-]*$/;
const MAX_REGISTRY_TAG_VALUE = 100_000;
const MAX_REGISTRY_TAG_KEY = 250;

type RegistryApi = Pick<
  MlflowClient,
  | 'getRegisteredModel'
  | 'getOrCreateRegisteredModel'
  | 'deleteRegisteredModel'
  | 'createModelVersion'
  | 'getModelVersion'
  | 'searchModelVersions'
  | 'searchAllModelVersions'
  | 'setModelVersionTag'
  | 'setAlias'
  | 'getModelVersionByAlias'
  | 'deleteAlias'
  | 'downloadModelVersionArtifact'
  | 'getModelVersionDownloadUri'
>;

function errorDetails(error: MlflowError) {
  return {
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.mlflowErrorCode === undefined ? {} : { mlflowErrorCode: error.mlflowErrorCode }),
    ...(error.method === undefined ? {} : { method: error.method }),
    ...(error.path === undefined ? {} : { path: error.path }),
  };
}

function tagList(tags: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function checkAlias(alias: string): void {
  if (
    alias === '' ||
    alias.length > 255 ||
    !ALIAS_PATTERN.test(alias) ||
    /^latest$/i.test(alias) ||
    /^v\d+$/i.test(alias)
  ) {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `alias "${alias}" is not allowed: use 1-255 letters, digits, "_" or "-", and not "latest" or "v<number>"`,
    );
  }
}

function checkRegistryTag(key: string, value: string): void {
  if (key === '' || key.length > MAX_REGISTRY_TAG_KEY) {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `model version tag key must have 1-${MAX_REGISTRY_TAG_KEY} characters`,
    );
  }
  if (value.length > MAX_REGISTRY_TAG_VALUE) {
    throw new MlflowError(
      MlflowErrorCode.VALUE_TOO_LONG,
      `model version tag "${key}" has ${value.length} characters; MLflow allows at most ${MAX_REGISTRY_TAG_VALUE}`,
    );
  }
}

export function createRegistryApi(transport: Transport, artifacts: ArtifactApi): RegistryApi {
  const registrationTimeoutMs = transport.options.registrationTimeoutMs;

  async function waitUntilRegistered(version: ModelVersion, timeoutMs: number): Promise<ModelVersion> {
    const deadline = Date.now() + timeoutMs;
    let current = version;
    let delay = 100;
    while (current.status === 'PENDING_REGISTRATION') {
      if (Date.now() >= deadline) {
        throw new MlflowError(
          MlflowErrorCode.REGISTRATION_TIMEOUT,
          `model "${current.name}" version ${current.version} was still PENDING_REGISTRATION after ${timeoutMs} ms`,
        );
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 2_000);
      current = await api.getModelVersion(current.name, current.version);
    }
    if (current.status === 'FAILED_REGISTRATION') {
      throw new MlflowError(
        MlflowErrorCode.REGISTRATION_FAILED,
        `model "${current.name}" version ${current.version} failed to register${current.statusMessage ? `: ${current.statusMessage}` : ''} (source ${current.source})`,
      );
    }
    return current;
  }

  const api: RegistryApi = {
    async getRegisteredModel(name) {
      const res = await transport.json({
        method: 'GET',
        path: `${API}/registered-models/get`,
        query: { name },
        schema: RegisteredModelResponseSchema,
        retry: 'idempotent',
      });
      return res.registered_model;
    },

    async getOrCreateRegisteredModel(name, options = {}) {
      try {
        return await api.getRegisteredModel(name);
      } catch (error) {
        if (!isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) throw error;
      }
      try {
        const res = await transport.json({
          method: 'POST',
          path: `${API}/registered-models/create`,
          json: { name, description: options.description, tags: tagList(options.tags) },
          schema: RegisteredModelResponseSchema,
          retry: 'idempotent',
        });
        return res.registered_model;
      } catch (error) {
        // Another process (or our own retried request) created it first.
        if (!isMlflowError(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
        return api.getRegisteredModel(name);
      }
    },

    async deleteRegisteredModel(name) {
      await transport.json({
        method: 'DELETE',
        path: `${API}/registered-models/delete`,
        json: { name },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
    },

    async createModelVersion(options) {
      for (const [key, value] of Object.entries(options.tags ?? {})) checkRegistryTag(key, value);
      const token = randomUUID();
      const body = {
        name: options.name,
        source: options.source,
        run_id: options.runId,
        description: options.description,
        tags: [...tagList(options.tags), { key: CREATE_REQUEST_TAG, value: token }],
      };
      const created = await createOnce(transport, {
        create: async () =>
          (
            await transport.json({
              method: 'POST',
              path: `${API}/model-versions/create`,
              json: body,
              schema: ModelVersionResponseSchema,
              retry: 'never',
            })
          ).model_version,
        findExisting: async () => {
          const versions = await api.searchAllModelVersions({
            filter: `name = ${quote(options.name)} AND run_id = ${quote(options.runId)}`,
          });
          return versions.find((v) => v.tags[CREATE_REQUEST_TAG] === token);
        },
      });
      transport.logger?.info(
        { model: created.name, version: created.version, runId: options.runId, status: created.status },
        'mlflow model version created',
      );
      return waitUntilRegistered(created, options.registrationTimeoutMs ?? registrationTimeoutMs);
    },

    async getModelVersion(name, version) {
      const res = await transport.json({
        method: 'GET',
        path: `${API}/model-versions/get`,
        query: { name, version: String(version) },
        schema: ModelVersionResponseSchema,
        retry: 'idempotent',
      });
      return res.model_version;
    },

    async searchModelVersions(options = {}) {
      const filters = [options.name === undefined ? undefined : `name = ${quote(options.name)}`, options.filter].filter(
        (f): f is string => f !== undefined && f.trim() !== '',
      );
      const res = await transport.json({
        method: 'GET',
        path: `${API}/model-versions/search`,
        query: {
          filter: filters.length > 0 ? filters.join(' AND ') : undefined,
          max_results: options.maxResults ?? 100,
          order_by: options.orderBy,
          page_token: options.pageToken,
        },
        schema: SearchModelVersionsResponseSchema,
        retry: 'idempotent',
      });
      return { modelVersions: res.model_versions, nextPageToken: res.next_page_token || undefined };
    },

    async searchAllModelVersions(options = {}) {
      const all: ModelVersion[] = [];
      let pageToken: string | undefined;
      do {
        const page = await api.searchModelVersions({ ...options, ...(pageToken ? { pageToken } : {}) });
        all.push(...page.modelVersions);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return all;
    },

    async setModelVersionTag(name, version, key, value) {
      checkRegistryTag(key, value);
      await transport.json({
        method: 'POST',
        path: `${API}/model-versions/set-tag`,
        json: { name, version: String(version), key, value },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
    },

    async setAlias(name, alias, version) {
      checkAlias(alias);
      await transport.json({
        method: 'POST',
        path: `${API}/registered-models/alias`,
        json: { name, alias, version: String(version) },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
      transport.logger?.info({ model: name, alias, version: String(version) }, 'mlflow alias set');
    },

    async getModelVersionByAlias(name, alias) {
      try {
        const res = await transport.json({
          method: 'GET',
          path: `${API}/registered-models/alias`,
          query: { name, alias },
          schema: ModelVersionResponseSchema,
          retry: 'idempotent',
        });
        return res.model_version;
      } catch (error) {
        // The server reports a missing alias as INVALID_PARAMETER_VALUE "Registered model alias x not found."
        if (isMlflowError(error, 'INVALID_PARAMETER_VALUE') && /alias .* not found/i.test(error.message)) {
          throw new MlflowError(
            MlflowErrorCode.ALIAS_NOT_FOUND,
            `registered model "${name}" has no alias "${alias}" (set it with setAlias, e.g. after a version passes the gate)`,
            { ...errorDetails(error), cause: error },
          );
        }
        throw error;
      }
    },

    async deleteAlias(name, alias) {
      await transport.json({
        method: 'DELETE',
        path: `${API}/registered-models/alias`,
        json: { name, alias },
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
    },

    async getModelVersionDownloadUri(name, version) {
      const res = await transport.json({
        method: 'GET',
        path: `${API}/model-versions/get-download-uri`,
        query: { name, version: String(version) },
        schema: DownloadUriResponseSchema,
        retry: 'idempotent',
      });
      return res.artifact_uri;
    },

    async downloadModelVersionArtifact(name, version, relativePath, options) {
      const uri = await api.getModelVersionDownloadUri(name, version);
      return artifacts.downloadArtifact(uri, relativePath, options);
    },
  };
  return api;
}
