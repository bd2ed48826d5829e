import { ConfigError } from '@fallback-ctr/runtime';
import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../src/error-mapping.js';
import { createMlflowClient, MlflowError, MlflowErrorCode, optionsFromEnv } from '../src/index.js';
import { isRetryable, parseRetryAfter, splitTrackingUri } from '../src/transport.js';

const context = { method: 'GET', path: '/api/2.0/mlflow/runs/get', baseUrl: 'http://mlflow:5000', hasAuth: false };

describe('errorFromResponse', () => {
  it('keeps MLflow error codes from JSON bodies', () => {
    const error = errorFromResponse(
      404,
      JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run x not found', sqlstate: 'KAM00' }),
      context,
    );
    expect(error.code).toBe(MlflowErrorCode.API);
    expect(error.mlflowErrorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(error.isNotFound).toBe(true);
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      'MLflow GET /api/2.0/mlflow/runs/get failed (404 RESOURCE_DOES_NOT_EXIST): Run x not found',
    );
  });

  it('explains a basic-auth 401 text body', () => {
    const body = 'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html';
    const without = errorFromResponse(401, body, context);
    expect(without.code).toBe(MlflowErrorCode.UNAUTHORIZED);
    expect(without.message).toMatch(/requires authentication: set MLFLOW_TRACKING_USERNAME/);
    const wrong = errorFromResponse(401, body, { ...context, hasAuth: true });
    expect(wrong.message).toMatch(/credentials were rejected/);
  });

  it('explains the host-header 403 and the artifacts-off 503', () => {
    const host = errorFromResponse(403, 'Invalid Host header - possible DNS rebinding attack detected', context);
    expect(host.code).toBe(MlflowErrorCode.FORBIDDEN);
    expect(host.message).toMatch(/--allowed-hosts including that host and port/);
    expect(host.message).toContain('mlflow:5000');
    const off = errorFromResponse(
      503,
      'Endpoint: /api/2.0/mlflow-artifacts/artifacts disabled due to the mlflow server running with `--no-serve-artifacts`.',
      context,
    );
    expect(off.code).toBe(MlflowErrorCode.ARTIFACTS_NOT_SERVED);
    expect(isRetryable(off, 'idempotent')).toBe(false);
    const html = errorFromResponse(502, `<html>${'x'.repeat(1000)}</html>`, context);
    expect(html.code).toBe(MlflowErrorCode.HTTP);
    expect(html.message.length).toBeLessThan(450);
  });
});

describe('isRetryable', () => {
  const http = (status: number) => new MlflowError(MlflowErrorCode.HTTP, 'x', { status });
  const refused = new MlflowError(MlflowErrorCode.UNREACHABLE, 'x', {
    cause: new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
  });
  const reset = new MlflowError(MlflowErrorCode.UNREACHABLE, 'x', {
    cause: new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    }),
  });

  it('retries transient failures of idempotent calls only', () => {
    for (const s of [429, 500, 502, 503, 504]) expect(isRetryable(http(s), 'idempotent')).toBe(true);
    for (const s of [400, 401, 403, 404, 409, 501]) expect(isRetryable(http(s), 'idempotent')).toBe(false);
    expect(isRetryable(refused, 'idempotent')).toBe(true);
    expect(isRetryable(reset, 'idempotent')).toBe(true);
    expect(isRetryable(new MlflowError(MlflowErrorCode.TIMEOUT, 't'), 'idempotent')).toBe(true);
    expect(isRetryable(new Error('plain'), 'idempotent')).toBe(false);
  });

  it('retries a create only when the server cannot have acted', () => {
    expect(isRetryable(refused, 'unprocessed')).toBe(true);
    expect(isRetryable(http(429), 'unprocessed')).toBe(true);
    expect(isRetryable(reset, 'unprocessed')).toBe(false);
    expect(isRetryable(http(500), 'unprocessed')).toBe(false);
    expect(isRetryable(new MlflowError(MlflowErrorCode.TIMEOUT, 't'), 'unprocessed')).toBe(false);
    expect(isRetryable(refused, 'never')).toBe(false);
  });
});

describe('client configuration', () => {
  it('reads MLflow standard variables', () => {
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://m:5000' })).toEqual({ trackingUri: 'http://m:5000' });
    expect(
      optionsFromEnv({
        MLFLOW_TRACKING_URI: 'http://m:5000',
        MLFLOW_TRACKING_USERNAME: 'u',
        MLFLOW_TRACKING_PASSWORD: 'p',
        MLFLOW_HTTP_REQUEST_TIMEOUT: '5',
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
      }),
    ).toEqual({
      trackingUri: 'http://m:5000',
      auth: { type: 'basic', username: 'u', password: 'p' },
      timeoutMs: 5000,
      retry: { maxAttempts: 1 },
    });
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'https://m', MLFLOW_TRACKING_TOKEN: 't' }).auth).toEqual({
      type: 'bearer',
      token: 't',
    });
  });

  it('fails with one ConfigError naming the variable, never echoing secrets', () => {
    try {
      optionsFromEnv({ MLFLOW_TRACKING_URI: 'databricks', MLFLOW_TRACKING_PASSWORD: 'hunter2' });
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('MLFLOW_TRACKING_URI');
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects invalid options and moves URL credentials into basic auth', () => {
    expect(() => createMlflowClient({ trackingUri: 'ftp://x' })).toThrow(MlflowError);
    expect(() => createMlflowClient({ trackingUri: 'http://x', timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(splitTrackingUri('http://us%40er:p%3Ass@host:5000/prefix/')).toEqual({
      baseUrl: 'http://host:5000/prefix',
      auth: { type: 'basic', username: 'us@er', password: 'p:ss' },
    });
    expect(createMlflowClient({ trackingUri: 'http://u:p@host:5000' }).trackingUri).toBe('http://host:5000');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('Thu, 26 Nov 2026 04:00:00 GMT');
    expect(parseRetryAfter('Thu, 26 Nov 2026 04:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 03:59:00 GMT', now)).toBe(0);
  });
});
