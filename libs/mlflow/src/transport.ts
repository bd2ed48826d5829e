import { setTimeout as sleep } from 'node:timers/promises';
import { RetryError, retry } from '@fallback-ctr/runtime';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { MlflowAuth, ResolvedClientOptions, RetryPolicy } from './client-options.js';
import { errorFromBody, errorFromNetwork, errorFromResponse, networkCause } from './error-mapping.js';
import { MlflowError, MlflowErrorCode } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * When a failed call may be repeated:
 * - `idempotent`: network errors, timeouts, 429 and 5xx (repeating has the same effect);
 * - `unprocessed`: only failures where the server cannot have acted (connection refused, 429);
 * - `never`: one attempt (e.g. a one-shot stream body).
 */
export type RetryMode = 'idempotent' | 'unprocessed' | 'never';

export type Query = Record<string, string | number | readonly string[] | undefined>;

export interface RawRequest {
  method: HttpMethod;
  path: string;
  query?: Query;
  /** A JSON body, or a factory of a raw body called once per attempt. */
  json?: unknown;
  body?: () => RequestInit['body'];
  headers?: Record<string, string>;
  retry: RetryMode;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface JsonRequest<S extends z.ZodType> extends RawRequest {
  schema: S;
}

export interface RawResponse {
  response: Response;
  release(): void;
}

export interface Transport {
  readonly baseUrl: string;
  readonly options: ResolvedClientOptions;
  readonly logger: Logger | undefined;
  /** Sends a request and parses the JSON answer with `schema`. */
  json<S extends z.ZodType>(request: JsonRequest<S>): Promise<z.output<S>>;
  /**
   * Sends a request and returns the successful response with its body unread (for artifact
   * transfers). Call `release` once the body is consumed or abandoned: it stops the timeout and
   * detaches from the caller's signal.
   */
  raw(request: RawRequest): Promise<RawResponse>;
  /** Runs `fn` (made of `raw` calls with retry 'never') under the retry policy, e.g. a whole download. */
  retrying<T>(request: Pick<RawRequest, 'method' | 'path' | 'retry' | 'signal'>, fn: () => Promise<T>): Promise<T>;
  /** Wraps an error met while reading or writing a body into an MlflowError naming the call. */
  bodyError(error: unknown, request: Pick<RawRequest, 'method' | 'path' | 'timeoutMs' | 'signal'>): MlflowError;
}

const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);
const UNPROCESSED_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function authHeader(auth: MlflowAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.type === 'bearer') return `Bearer ${auth.token}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

/** Splits credentials out of a tracking URI such as http://user:pass@host:5000 (fetch refuses them in a URL). */
export function splitTrackingUri(trackingUri: string): { baseUrl: string; auth: MlflowAuth | undefined } {
  const url = new URL(trackingUri);
  let auth: MlflowAuth | undefined;
  if (url.username) {
    auth = {
      type: 'basic',
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  return { baseUrl: url.toString().replace(/\/+$/, ''), auth };
}

/** Whether a failure is worth another attempt under `mode`. */
export function isRetryable(error: unknown, mode: RetryMode): boolean {
  if (mode === 'never' || !(error instanceof MlflowError)) return false;
  if (error.code === MlflowErrorCode.ARTIFACTS_NOT_SERVED) return false;
  const unprocessed =
    error.status === 429 ||
    (error.code === MlflowErrorCode.UNREACHABLE && UNPROCESSED_NETWORK_CODES.has(networkCause(error.cause).code ?? ''));
  if (mode === 'unprocessed') return unprocessed;
  if (error.code === MlflowErrorCode.UNREACHABLE || error.code === MlflowErrorCode.TIMEOUT) return true;
  return error.status !== undefined && TRANSIENT_STATUS.has(error.status);
}

/** Retry-After as delay-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function buildUrl(baseUrl: string, path: string, query: Query | undefined): string {
  const url = new URL(baseUrl + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') url.searchParams.append(key, String(value));
    else for (const v of value) url.searchParams.append(key, v);
  }
  return url.toString();
}

/**
 * One signal for one attempt: aborted by its timeout or by the caller's signal. Not
 * AbortSignal.any: on Node 20 a long-lived input (a shutdown signal) keeps every combined signal
 * alive (nodejs/node#54614); here the listener is removed when the attempt is released.
 */
function attemptSignal(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  // An open request keeps the process alive by its socket; the timer alone should not.
  timer.unref();
  const onAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}

export function createTransport(
  options: ResolvedClientOptions,
  logger: Logger | undefined,
  hooks: { signal?: AbortSignal; onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void } = {},
): Transport {
  const { baseUrl, auth: uriAuth } = splitTrackingUri(options.trackingUri);
  const authorization = authHeader(options.auth ?? uriAuth);
  const policy: RetryPolicy = options.retry;

  async function attempt(req: RawRequest): Promise<RawResponse> {
    const url = buildUrl(baseUrl, req.path, req.query);
    const timeoutMs = req.timeoutMs ?? options.timeoutMs;
    const callerSignal = req.signal ?? hooks.signal;
    const { signal, release } = attemptSignal(timeoutMs, callerSignal);
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (authorization) headers.authorization = authorization;
    let body: RequestInit['body'];
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (req.body) {
      body = req.body();
    }
    const started = performance.now();
    let response: Response;
    try {
      const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal };
      if (body !== undefined) {
        init.body = body;
        init.duplex = 'half';
        // With redirect 'follow' (the default) Node's fetch tees a stream body to be able to replay
        // it and keeps every chunk: a 200 MB upload held 200 MB (nodejs/undici#4058). MLflow does
        // not redirect API calls, so an upload never needs to follow one.
        if (req.body) init.redirect = 'error';
      }
      response = await fetch(url, init);
    } catch (error) {
      release();
      throw networkError(error, req, timeoutMs, callerSignal);
    }
    logger?.debug(
      { method: req.method, path: req.path, status: response.status, ms: Math.round(performance.now() - started) },
      'mlflow request',
    );
    if (response.ok) return { response, release };
    let text = '';
    try {
      text = await response.text();
    } catch {
      // the body is only used to explain the error
    } finally {
      release();
    }
    const error = errorFromResponse(response.status, text, {
      method: req.method,
      path: req.path,
      baseUrl,
      hasAuth: authorization !== undefined,
    });
    // A gateway in front of MLflow may say when to come back; wait that long before the usual
    // backoff, when it is within the retry policy's longest delay and the call will be retried.
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfterMs !== undefined && retryAfterMs <= policy.maxDelayMs && isRetryable(error, req.retry)) {
      await sleep(retryAfterMs, undefined, callerSignal ? { signal: callerSignal } : undefined).catch(() => undefined);
    }
    throw error;
  }

  function networkError(
    error: unknown,
    req: Pick<RawRequest, 'method' | 'path'>,
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
  ): MlflowError {
    return errorFromNetwork(error, { ...req, baseUrl, timeoutMs, aborted: callerSignal?.aborted === true });
  }

  async function withRetry<T>(
    req: Pick<RawRequest, 'method' | 'path' | 'retry' | 'signal'>,
    fn: () => Promise<T>,
  ): Promise<T> {
    if (req.retry === 'never') return fn();
    const started = Date.now();
    try {
      return await retry(fn, {
        maxAttempts: policy.maxAttempts,
        initialDelayMs: policy.initialDelayMs,
        maxDelayMs: policy.maxDelayMs,
        deadlineMs: policy.deadlineMs,
        ...((req.signal ?? hooks.signal) ? { signal: req.signal ?? hooks.signal } : {}),
        retryable: (error) => isRetryable(error, req.retry),
        onRetry: (info) => {
          logger?.warn(
            {
              method: req.method,
              path: req.path,
              attempt: info.attempt,
              delayMs: info.delayMs,
              err: info.error instanceof Error ? info.error.message : String(info.error),
            },
            'mlflow request failed, retrying',
          );
          hooks.onRetry?.(info);
        },
      });
    } catch (error) {
      if (error instanceof RetryError && error.cause instanceof MlflowError) {
        const last = error.cause;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        throw last.withContext(`${last.message} (gave up after ${error.attempts} attempts in ${seconds} s)`, {
          attempts: error.attempts,
          cause: last.cause ?? last,
        });
      }
      if (error instanceof Error && error.name === 'AbortedError') {
        throw new MlflowError(MlflowErrorCode.ABORTED, `MLflow ${req.method} ${req.path} was aborted`, {
          method: req.method,
          path: req.path,
          cause: error,
        });
      }
      throw error;
    }
  }

  return {
    baseUrl,
    options,
    logger,
    async json<S extends z.ZodType>(req: JsonRequest<S>): Promise<z.output<S>> {
      return withRetry(req, async () => {
        const { response, release } = await attempt(req);
        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          throw networkError(error, req, req.timeoutMs ?? options.timeoutMs, req.signal ?? hooks.signal);
        } finally {
          release();
        }
        const context = { method: req.method, path: req.path, status: response.status };
        let value: unknown;
        try {
          value = text.trim() === '' ? {} : JSON.parse(text);
        } catch (error) {
          throw errorFromBody(text, { notJson: error }, context);
        }
        const parsed = req.schema.safeParse(value);
        if (!parsed.success) throw errorFromBody(text, { schemaError: parsed.error }, context);
        return parsed.data;
      });
    },
    raw(req: RawRequest): Promise<RawResponse> {
      return withRetry(req, () => attempt(req));
    },
    retrying: withRetry,
    bodyError(error, req) {
      if (error instanceof MlflowError) return error;
      return networkError(error, req as RawRequest, req.timeoutMs ?? options.timeoutMs, req.signal ?? hooks.signal);
    },
  };
}
