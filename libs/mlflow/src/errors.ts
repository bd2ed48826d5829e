import { type ErrorCodeOf, FallbackCtrError } from '@fallback-ctr/runtime';

/** Stable error codes of @fallback-ctr/mlflow. The README's troubleshooting section lists them. */
export const MlflowErrorCode = {
  /** The server answered with an MLflow error body (see `mlflowErrorCode` for MLflow's own code). */
  API: 'MLFLOW_API_ERROR',
  /** 401: missing or wrong credentials (basic auth or a token). */
  UNAUTHORIZED: 'MLFLOW_UNAUTHORIZED',
  /** 403: permission denied, or the server's host-header check rejected the request. */
  FORBIDDEN: 'MLFLOW_FORBIDDEN',
  /** An HTTP error whose body is not MLflow's JSON error. */
  HTTP: 'MLFLOW_HTTP_ERROR',
  /** The server could not be reached (connection refused, reset, DNS), after the allowed retries. */
  UNREACHABLE: 'MLFLOW_UNREACHABLE',
  /** No response within `timeoutMs`, after the allowed retries. */
  TIMEOUT: 'MLFLOW_TIMEOUT',
  /** The response did not match the expected schema (a client/server version mismatch). */
  BAD_RESPONSE: 'MLFLOW_BAD_RESPONSE',
  /** A value is longer than the server accepts (it would be truncated silently). */
  VALUE_TOO_LONG: 'MLFLOW_VALUE_TOO_LONG',
  /** A key, name or argument the server would reject. */
  INVALID_ARGUMENT: 'MLFLOW_INVALID_ARGUMENT',
  /** The server runs without `--serve-artifacts` (or in a mode that disables the endpoint). */
  ARTIFACTS_NOT_SERVED: 'MLFLOW_ARTIFACTS_NOT_SERVED',
  /** The artifact URI is not `mlflow-artifacts:` (s3://, a local path, …): the proxy cannot serve it. */
  UNSUPPORTED_ARTIFACT_URI: 'MLFLOW_UNSUPPORTED_ARTIFACT_URI',
  /** The registered model exists but has no such alias (MLflow answers INVALID_PARAMETER_VALUE). */
  ALIAS_NOT_FOUND: 'MLFLOW_ALIAS_NOT_FOUND',
  /** A model version ended in FAILED_REGISTRATION. */
  REGISTRATION_FAILED: 'MLFLOW_REGISTRATION_FAILED',
  /** A model version stayed PENDING_REGISTRATION longer than allowed. */
  REGISTRATION_TIMEOUT: 'MLFLOW_REGISTRATION_TIMEOUT',
  /** The client configuration (options or environment) is invalid. */
  CONFIG_INVALID: 'MLFLOW_CONFIG_INVALID',
  /** A download is larger than the caller's `maxBytes` (declared by the server, or counted while streaming). */
  ARTIFACT_TOO_LARGE: 'MLFLOW_ARTIFACT_TOO_LARGE',
  /** The caller aborted the request. */
  ABORTED: 'MLFLOW_ABORTED',
} as const;
export type MlflowErrorCode = ErrorCodeOf<typeof MlflowErrorCode>;

export interface MlflowErrorDetails {
  /** HTTP status, when the server answered. */
  status?: number;
  /** MLflow's `error_code` (e.g. RESOURCE_DOES_NOT_EXIST), when the body carried one. */
  mlflowErrorCode?: string;
  /** HTTP method of the failed call. */
  method?: string;
  /** Path of the failed call (no query string, no credentials). */
  path?: string;
  /** Attempts made, when the call was retried. */
  attempts?: number;
  cause?: unknown;
}

/** The one error type of @fallback-ctr/mlflow. */
export class MlflowError extends FallbackCtrError {
  readonly status: number | undefined;
  readonly mlflowErrorCode: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly attempts: number | undefined;

  constructor(code: MlflowErrorCode, message: string, details: MlflowErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.mlflowErrorCode = details.mlflowErrorCode;
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts;
  }

  /** True when the thing asked for does not exist: RESOURCE_DOES_NOT_EXIST, a missing alias, a 404. */
  get isNotFound(): boolean {
    return (
      this.mlflowErrorCode === 'RESOURCE_DOES_NOT_EXIST' ||
      this.code === MlflowErrorCode.ALIAS_NOT_FOUND ||
      (this.status === 404 && !this.mlflowErrorCode)
    );
  }

  /**
   * The same failure told with more context (a retry count, a lookup that failed too, a friendlier
   * reading): status, MLflow code, method and path are kept; `code` and `cause` may be replaced.
   */
  withContext(message: string, more: { code?: MlflowErrorCode; attempts?: number; cause?: unknown } = {}): MlflowError {
    return new MlflowError(more.code ?? (this.code as MlflowErrorCode), message, {
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.mlflowErrorCode === undefined ? {} : { mlflowErrorCode: this.mlflowErrorCode }),
      ...(this.method === undefined ? {} : { method: this.method }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(more.attempts === undefined ? {} : { attempts: more.attempts }),
      cause: more.cause ?? this,
    });
  }

  /** True when MLflow reported RESOURCE_ALREADY_EXISTS. */
  get isAlreadyExists(): boolean {
    return this.mlflowErrorCode === 'RESOURCE_ALREADY_EXISTS';
  }
}

export function isMlflowError(error: unknown, mlflowErrorCode?: string): error is MlflowError {
  return error instanceof MlflowError && (mlflowErrorCode === undefined || error.mlflowErrorCode === mlflowErrorCode);
}
