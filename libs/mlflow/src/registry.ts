import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArtifactApi, DownloadOptions } from './artifacts.js';
import { CREATE_REQUEST_TAG, createOnce } from './create-once.js';
import { endpointCaller } from './endpoint.js';
import { isMlflowError, MlflowError, MlflowErrorCode } from './errors.js';
import {
  DownloadUriResponseSchema,
  type ModelVersion,
  ModelVersionResponseSchema,
  type RegisteredModel,
  RegisteredModelResponseSchema,
  SearchModelVersionsResponseSchema,
} from './registry-schemas.js';
import { EmptyResponseSchema } from './tracking-schemas.js';
import type { Transport } from './transport.js';

const ALIAS_PATTERN = /^[\w-]*$/;
const MAX_REGISTRY_TAG_VALUE = 100_000;
const MAX_REGISTRY_TAG_KEY = 250;

export interface RegisteredModelOptions {
  description?: string;
  tags?: Record<string, string>;
}

export interface CreateModelVersionOptions {
  name: string;
  /** Where the version's files are, normally `<run artifact_uri>/model`. */
  source: string;
  /** The run that holds `source` (the server requires it). */
  runId: string;
  tags?: Record<string, string>;
  description?: string;
  /** Overrides the client's registrationTimeoutMs for this call. */
  registrationTimeoutMs?: number;
}

export interface SearchModelVersionsOptions {
  /** A registered model name: shorthand for the filter `name = '<name>'`. */
  name?: string;
  /** MLflow filter string, e.g. "name = 'm' AND run_id = 'r'". Combined with `name` by AND. */
  filter?: string;
  /** Page size (server maximum 200 000; default 100 here). */
  maxResults?: number;
  orderBy?: readonly string[];
  pageToken?: string;
}

export interface ModelVersionPage {
  modelVersions: ModelVersion[];
  /** Set when more results exist; pass it back as `pageToken`. */
  nextPageToken: string | undefined;
}

/** Registered models, their versions, tags and aliases. */
export interface RegistryApi {
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  getOrCreateRegisteredModel(name: string, options?: RegisteredModelOptions): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  /** Creates a version and waits while it is PENDING_REGISTRATION; never creates a duplicate on retry. */
  createModelVersion(options: CreateModelVersionOptions): Promise<ModelVersion>;
  getModelVersion(name: string, version: string | number): Promise<ModelVersion>;
  /** One page of results; aliases are not reliable in search results, use getModelVersion. */
  searchModelVersions(options?: SearchModelVersionsOptions): Promise<ModelVersionPage>;
  /** Follows every page. */
  searchAllModelVersions(options?: Omit<SearchModelVersionsOptions, 'pageToken'>): Promise<ModelVersion[]>;
  setModelVersionTag(name: string, version: string | number, key: string, value: string): Promise<void>;
  /** Sets or moves an alias. */
  setAlias(name: string, alias: string, version: string | number): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
  deleteAlias(name: string, alias: string): Promise<void>;
  /** Downloads one file of a model version, e.g. (`fallback-ctr`, `3`, `model.json`). */
  downloadModelVersionArtifact(
    name: string,
    version: string | number,
    relativePath: string,
    options?: DownloadOptions,
  ): Promise<Buffer>;
  /** The artifact root URI of a version (what `relativePath`s are relative to). */
  getModelVersionDownloadUri(name: string, version: string | number): Promise<string>;
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

export function createRegistryApi(transport: Transport, artifacts: Pick<ArtifactApi, 'downloadArtifact'>): RegistryApi {
  const call = endpointCaller(transport);
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
      const res = await call('GET', 'registered-models/get', RegisteredModelResponseSchema, { name });
      return res.registered_model;
    },

    async getOrCreateRegisteredModel(name, options = {}) {
      try {
        return await api.getRegisteredModel(name);
      } catch (error) {
        if (!isMlflowError(error, 'RESOURCE_DOES_NOT_EXIST')) throw error;
      }
      try {
        const res = await call('POST', 'registered-models/create', RegisteredModelResponseSchema, {
          name,
          description: options.description,
          tags: tagList(options.tags),
        });
        return res.registered_model;
      } catch (error) {
        // Another process (or our own retried request) created it first.
        if (!isMlflowError(error, 'RESOURCE_ALREADY_EXISTS')) throw error;
        return api.getRegisteredModel(name);
      }
    },

    async deleteRegisteredModel(name) {
      await call('DELETE', 'registered-models/delete', EmptyResponseSchema, { name });
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
          (await call('POST', 'model-versions/create', ModelVersionResponseSchema, body, 'never')).model_version,
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
      const res = await call('GET', 'model-versions/get', ModelVersionResponseSchema, {
        name,
        version: String(version),
      });
      return res.model_version;
    },

    async searchModelVersions(options = {}) {
      const filters = [options.name === undefined ? undefined : `name = ${quote(options.name)}`, options.filter].filter(
        (f): f is string => f !== undefined && f.trim() !== '',
      );
      const res = await call('GET', 'model-versions/search', SearchModelVersionsResponseSchema, {
        filter: filters.length > 0 ? filters.join(' AND ') : undefined,
        max_results: options.maxResults ?? 100,
        order_by: options.orderBy,
        page_token: options.pageToken,
      });
      return { modelVersions: res.model_versions, nextPageToken: res.next_page_token || undefined };
    },

    async searchAllModelVersions(options = {}) {
      const all: ModelVersion[] = [];
      let pageToken: string | undefined;
      do {
        const page = await api.searchModelVersions({ ...options, pageToken });
        all.push(...page.modelVersions);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return all;
    },

    async setModelVersionTag(name, version, key, value) {
      checkRegistryTag(key, value);
      await call('POST', 'model-versions/set-tag', EmptyResponseSchema, { name, version: String(version), key, value });
    },

    async setAlias(name, alias, version) {
      checkAlias(alias);
      await call('POST', 'registered-models/alias', EmptyResponseSchema, { name, alias, version: String(version) });
      transport.logger?.info({ model: name, alias, version: String(version) }, 'mlflow alias set');
    },

    async getModelVersionByAlias(name, alias) {
      try {
        const res = await call('GET', 'registered-models/alias', ModelVersionResponseSchema, { name, alias });
        return res.model_version;
      } catch (error) {
        // The server reports a missing alias as INVALID_PARAMETER_VALUE "Registered model alias x not found."
        if (isMlflowError(error, 'INVALID_PARAMETER_VALUE') && /alias .* not found/i.test(error.message)) {
          throw error.withContext(
            `registered model "${name}" has no alias "${alias}" (set it with setAlias, e.g. after a version passes the gate)`,
            { code: MlflowErrorCode.ALIAS_NOT_FOUND },
          );
        }
        throw error;
      }
    },

    async deleteAlias(name, alias) {
      await call('DELETE', 'registered-models/alias', EmptyResponseSchema, { name, alias });
    },

    async getModelVersionDownloadUri(name, version) {
      const res = await call('GET', 'model-versions/get-download-uri', DownloadUriResponseSchema, {
        name,
        version: String(version),
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
