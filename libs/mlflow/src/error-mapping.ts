import { z } from 'zod';
import { MlflowError, MlflowErrorCode, type MlflowErrorDetails } from './errors.js';

/**
 * How failures become MlflowErrors: an HTTP answer that is not 2xx, a request that never got an
 * answer, and an answer of the wrong shape. Each message says what to fix.
 */

const BODY_EXCERPT = 300;

/** The errno-style code and message at the root of a fetch failure. */
export function networkCause(error: unknown): { code: string | undefined; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return { code, message: current.message };
    if (current instanceof AggregateError && current.errors[0] instanceof Error) current = current.errors[0];
    else current = current.cause;
  }
  return { code: undefined, message: error instanceof Error ? error.message : String(error) };
}

const MlflowErrorBodySchema = z.object({ error_code: z.string(), message: z.string().optional() }).loose();

function parseErrorBody(text: string): z.output<typeof MlflowErrorBodySchema> | undefined {
  try {
    const parsed = MlflowErrorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_EXCERPT ? `${flat.slice(0, BODY_EXCERPT)}…` : flat;
}

/** Turns a non-2xx response into an MlflowError whose message says what to fix. */
export function errorFromResponse(
  status: number,
  bodyText: string,
  context: { method: string; path: string; baseUrl: string; hasAuth: boolean },
): MlflowError {
  const where = `${context.method} ${context.path}`;
  const details = { status, method: context.method, path: context.path };
  const body = parseErrorBody(bodyText);
  if (body) {
    const mlflowErrorCode = body.error_code;
    const code =
      status === 401
        ? MlflowErrorCode.UNAUTHORIZED
        : status === 403 || mlflowErrorCode === 'PERMISSION_DENIED'
          ? MlflowErrorCode.FORBIDDEN
          : MlflowErrorCode.API;
    return new MlflowError(code, `MLflow ${where} failed (${status} ${mlflowErrorCode}): ${body.message ?? ''}`, {
      ...details,
      mlflowErrorCode,
    });
  }
  const text = excerpt(bodyText);
  if (status === 401) {
    const hint = context.hasAuth
      ? 'the credentials were rejected: check MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)'
      : 'the server requires authentication: set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)';
    return new MlflowError(
      MlflowErrorCode.UNAUTHORIZED,
      `MLflow ${where} failed (401 Unauthorized at ${context.baseUrl}): ${hint}`,
      details,
    );
  }
  if (status === 403) {
    const hostCheck = /host/i.test(text);
    const hint = hostCheck
      ? `the server's host-header check refused "${new URL(context.baseUrl).host}": start mlflow server with --allowed-hosts including that host and port`
      : 'permission denied for this user';
    return new MlflowError(
      MlflowErrorCode.FORBIDDEN,
      `MLflow ${where} failed (403 Forbidden): ${hint}${text ? ` (server said: ${text})` : ''}`,
      details,
    );
  }
  if (status === 503 && /serve-artifacts|artifacts-only/.test(text)) {
    return new MlflowError(
      MlflowErrorCode.ARTIFACTS_NOT_SERVED,
      `MLflow ${where} failed (503): the server at ${context.baseUrl} does not serve artifacts; start mlflow server with --serve-artifacts (the default) and --artifacts-destination`,
      details,
    );
  }
  if (status === 404) {
    return new MlflowError(
      MlflowErrorCode.HTTP,
      `MLflow ${where} failed (404 Not Found): no such endpoint at ${context.baseUrl}; check MLFLOW_TRACKING_URI points at an MLflow tracking server${text ? ` (server said: ${text})` : ''}`,
      details,
    );
  }
  return new MlflowError(
    MlflowErrorCode.HTTP,
    `MLflow ${where} failed (HTTP ${status})${text ? `: ${text}` : ''}`,
    details,
  );
}

/** A request that got no answer: aborted by the caller, timed out, or the server could not be reached. */
export function errorFromNetwork(
  error: unknown,
  context: { method: string; path: string; baseUrl: string; timeoutMs: number; aborted: boolean },
): MlflowError {
  const where = `MLflow ${context.method} ${context.path}`;
  const details = { method: context.method, path: context.path, cause: error };
  if (context.aborted) return new MlflowError(MlflowErrorCode.ABORTED, `${where} was aborted`, details);
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new MlflowError(
      MlflowErrorCode.TIMEOUT,
      `${where} at ${context.baseUrl} did not answer within ${context.timeoutMs} ms`,
      details,
    );
  }
  const cause = networkCause(error);
  return new MlflowError(
    MlflowErrorCode.UNREACHABLE,
    `${where} at ${context.baseUrl} failed: ${cause.code ? `${cause.code} ` : ''}${cause.message}`,
    details,
  );
}

/** A 2xx answer whose body is not JSON, or not the shape the schema expects. */
export function errorFromBody(
  text: string,
  problem: { notJson: unknown } | { schemaError: z.ZodError },
  context: { method: string; path: string; status: number },
): MlflowError {
  const where = `MLflow ${context.method} ${context.path}`;
  const details: MlflowErrorDetails = { status: context.status, method: context.method, path: context.path };
  if ('notJson' in problem) {
    return new MlflowError(
      MlflowErrorCode.BAD_RESPONSE,
      `${where} answered ${context.status} with a body that is not JSON: ${excerpt(text)}`,
      { ...details, cause: problem.notJson },
    );
  }
  const issues = problem.schemaError.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return new MlflowError(
    MlflowErrorCode.BAD_RESPONSE,
    `${where} answered with an unexpected shape (is the server a compatible MLflow version?): ${issues}`,
    { ...details, cause: problem.schemaError },
  );
}
