import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type ArtifactFile, ListArtifactsResponseSchema } from './artifact-schemas.js';
import { ARTIFACT_PROXY_PATH, checkRelativePath, proxyPathOf, proxyUrlPath } from './artifact-uri.js';
import { MlflowError, MlflowErrorCode } from './errors.js';
import { EmptyResponseSchema } from './tracking-schemas.js';
import type { RawRequest, RawResponse, Transport } from './transport.js';

/**
 * What an artifact upload reads: bytes, a file on disk, or a stream. Files and bytes can be
 * retried; a stream can be sent once only.
 */
export type ArtifactSource =
  | Uint8Array
  | { filePath: string }
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

export interface DownloadOptions {
  /** Largest file accepted, in bytes. */
  maxBytes?: number;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
}

/** Artifacts (through the tracking server's proxy); `artifactUri` is a run's artifact_uri or a version's source. */
export interface ArtifactApi {
  uploadArtifact(artifactUri: string, relativePath: string, source: ArtifactSource): Promise<void>;
  /** Lists one directory (`relativePath`, default the root); entry paths are relative to `artifactUri`. */
  listArtifacts(artifactUri: string, relativePath?: string): Promise<ArtifactFile[]>;
  /**
   * Downloads one file into memory. With `maxBytes`, fails with MLFLOW_ARTIFACT_TOO_LARGE as soon as
   * the declared length or the bytes received exceed it (never holding more than that in memory).
   */
  downloadArtifact(artifactUri: string, relativePath: string, options?: DownloadOptions): Promise<Buffer>;
  /** Streams one file to disk (written to a temporary name, then renamed). */
  downloadArtifactToFile(artifactUri: string, relativePath: string, filePath: string): Promise<DownloadResult>;
  /** Opens one file as a stream. */
  openArtifactStream(artifactUri: string, relativePath: string): Promise<Readable>;
  /** Deletes a file or a directory (default: everything under `artifactUri`). Deleting a run does not. */
  deleteArtifacts(artifactUri: string, relativePath?: string): Promise<void>;
}

type BodyFactory = NonNullable<RawRequest['body']>;

function isUint8Array(source: ArtifactSource): source is Uint8Array {
  return source instanceof Uint8Array;
}

function isFileSource(source: ArtifactSource): source is { filePath: string } {
  return typeof source === 'object' && source !== null && 'filePath' in source && typeof source.filePath === 'string';
}

export function createArtifactApi(transport: Transport): ArtifactApi {
  const timeoutMs = transport.options.artifactTimeoutMs;

  async function upload(artifactUri: string, relativePath: string, source: ArtifactSource): Promise<void> {
    const rel = checkRelativePath(relativePath);
    if (rel === '') {
      throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, 'an artifact upload needs a file path, not the root');
    }
    const path = proxyUrlPath(proxyPathOf(artifactUri, rel));
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    let body: BodyFactory;
    let retry: RawRequest['retry'] = 'idempotent';
    if (isUint8Array(source)) {
      body = () => source;
    } else if (isFileSource(source)) {
      const info = await stat(source.filePath);
      if (!info.isFile()) {
        throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, `"${source.filePath}" is not a file`);
      }
      body = () =>
        createReadStream(source.filePath, { highWaterMark: 1 << 20 }) as unknown as AsyncIterable<Uint8Array>;
    } else {
      // A caller's stream can be read once: no retry.
      retry = 'never';
      const stream = source;
      body = () =>
        (stream instanceof ReadableStream
          ? stream
          : (stream as AsyncIterable<Uint8Array>)) as unknown as ReturnType<BodyFactory>;
    }
    const { response, release } = await transport.raw({ method: 'PUT', path, headers, body, retry, timeoutMs });
    const text = await response
      .text()
      .catch((error: unknown) => {
        throw transport.bodyError(error, { method: 'PUT', path, timeoutMs });
      })
      .finally(release);
    let answer: unknown;
    try {
      answer = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (!EmptyResponseSchema.safeParse(answer).success) {
      throw new MlflowError(
        MlflowErrorCode.BAD_RESPONSE,
        `MLflow PUT ${path} answered ${response.status} with an unexpected body (is ${transport.baseUrl} an MLflow tracking server?): ${text.slice(0, 200)}`,
        { status: response.status, method: 'PUT', path },
      );
    }
    transport.logger?.debug({ artifactUri, path: rel }, 'mlflow artifact uploaded');
  }

  async function open(artifactUri: string, relativePath: string, retry: RawRequest['retry']): Promise<RawResponse> {
    const rel = checkRelativePath(relativePath);
    if (rel === '') {
      throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, 'an artifact download needs a file path, not the root');
    }
    const path = proxyUrlPath(proxyPathOf(artifactUri, rel));
    return transport.raw({
      method: 'GET',
      path,
      headers: { accept: 'application/octet-stream, application/json' },
      retry,
      timeoutMs,
    });
  }

  function nodeStream(response: Response): Readable {
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }

  return {
    uploadArtifact: upload,

    async listArtifacts(artifactUri, relativePath = '') {
      const rel = checkRelativePath(relativePath);
      const res = await transport.json({
        method: 'GET',
        path: ARTIFACT_PROXY_PATH,
        query: { path: proxyPathOf(artifactUri, rel) },
        schema: ListArtifactsResponseSchema,
        retry: 'idempotent',
      });
      return res.files.map((f) => {
        const base = f.path.split('/').pop() ?? f.path;
        return { ...f, path: rel === '' ? base : `${rel}/${base}` };
      });
    },

    async downloadArtifact(artifactUri, relativePath, options = {}) {
      const req = { method: 'GET' as const, path: proxyUrlPath(proxyPathOf(artifactUri, relativePath)), timeoutMs };
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
      const tooLarge = (what: string) =>
        new MlflowError(
          MlflowErrorCode.ARTIFACT_TOO_LARGE,
          `artifact ${relativePath} ${what}, more than the ${maxBytes} bytes allowed`,
          { method: 'GET', path: req.path },
        );
      return transport.retrying({ ...req, retry: 'idempotent' }, async () => {
        const { response, release } = await open(artifactUri, relativePath, 'never');
        try {
          const declared = Number(response.headers.get('content-length') ?? Number.NaN);
          if (declared > maxBytes) throw tooLarge(`is ${declared} bytes (Content-Length)`);
          const chunks: Uint8Array[] = [];
          let received = 0;
          for await (const chunk of nodeStream(response) as AsyncIterable<Uint8Array>) {
            received += chunk.byteLength;
            // Stops reading (and releases the connection) the moment the limit is passed.
            if (received > maxBytes) throw tooLarge(`streamed past ${received} bytes`);
            chunks.push(chunk);
          }
          return Buffer.concat(chunks, received);
        } catch (error) {
          if (error instanceof MlflowError) throw error;
          throw transport.bodyError(error, req);
        } finally {
          release();
        }
      });
    },

    async downloadArtifactToFile(artifactUri, relativePath, filePath) {
      const req = { method: 'GET' as const, path: proxyUrlPath(proxyPathOf(artifactUri, relativePath)), timeoutMs };
      return transport.retrying({ ...req, retry: 'idempotent' }, async () => {
        const { response, release } = await open(artifactUri, relativePath, 'never');
        const temporary = `${filePath}.${randomBytes(6).toString('hex')}.part`;
        const hash = createHash('sha256');
        let bytes = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            bytes += chunk.length;
            callback(null, chunk);
          },
        });
        try {
          await pipeline(nodeStream(response), tap, createWriteStream(temporary));
          await rename(temporary, filePath);
        } catch (error) {
          await rm(temporary, { force: true });
          throw transport.bodyError(error, req);
        } finally {
          release();
        }
        return { bytes, sha256: hash.digest('hex') };
      });
    },

    async deleteArtifacts(artifactUri, relativePath = '') {
      const target = proxyPathOf(artifactUri, relativePath);
      if (target === '') {
        throw new MlflowError(MlflowErrorCode.INVALID_ARGUMENT, 'refusing to delete the root of the artifact store');
      }
      await transport.json({
        method: 'DELETE',
        path: proxyUrlPath(target),
        schema: EmptyResponseSchema,
        retry: 'idempotent',
      });
    },

    async openArtifactStream(artifactUri, relativePath) {
      const { response, release } = await open(artifactUri, relativePath, 'idempotent');
      const stream = nodeStream(response);
      stream.once('close', release);
      return stream;
    },
  };
}
