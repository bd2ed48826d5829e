import { MlflowError, MlflowErrorCode } from './errors.js';

/** Path prefix of the tracking server's artifact proxy. */
export const ARTIFACT_PROXY_PATH = '/api/2.0/mlflow-artifacts/artifacts';

/**
 * The proxy path (relative to the server's artifact root) of an `mlflow-artifacts:` URI,
 * e.g. `mlflow-artifacts:/2/<run>/artifacts` → `2/<run>/artifacts`. Any other scheme (s3://, gs://,
 * file://, a local path) is stored where this client cannot reach it: a clear error says so.
 */
export function artifactProxyPath(artifactUri: string): string {
  const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (!match) {
    throw new MlflowError(
      MlflowErrorCode.UNSUPPORTED_ARTIFACT_URI,
      `artifact URI "${artifactUri}" is not served by the MLflow artifact proxy (only mlflow-artifacts:/… is): ` +
        'the experiment was created with its own artifact_location or the server runs without --serve-artifacts. ' +
        'Use an experiment created on a server started with --serve-artifacts and --artifacts-destination, without an artifact_location.',
    );
  }
  return trimSlashes(match[1] ?? '');
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** Checks a relative artifact path: no empty, `.` or `..` segments, no leading slash, no backslash. */
export function checkRelativePath(relativePath: string, what = 'artifact path'): string {
  const path = trimSlashes(relativePath);
  if (path === '') return '';
  if (
    relativePath.startsWith('/') ||
    path.includes('\\') ||
    path.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new MlflowError(
      MlflowErrorCode.INVALID_ARGUMENT,
      `${what} "${relativePath}" must be relative, with no empty, "." or ".." segments`,
    );
  }
  return path;
}

/** Joins an artifact root URI and a relative path into a proxy path. */
export function proxyPathOf(artifactUri: string, relativePath = ''): string {
  const root = artifactProxyPath(artifactUri);
  const rel = checkRelativePath(relativePath);
  return [root, rel].filter((s) => s !== '').join('/');
}

/** URL path of one artifact (each segment percent-encoded). */
export function proxyUrlPath(proxyPath: string): string {
  return `${ARTIFACT_PROXY_PATH}/${proxyPath
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;
}
