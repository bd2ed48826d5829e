import { createMlflowClient } from '@fallback-ctr/mlflow';
import { ModelErrorCode } from '@fallback-ctr/model';
import { createLogger, type Logger } from '@fallback-ctr/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLineSink } from '../../../test/support/json-lines.js';
import { fetchModel, InferenceError, InferenceErrorCode, loadedModel } from '../src/index.js';
import { makeArtifact } from './fixtures.js';
import { cleanup, publishArtifact, publishVersion, testClient, trackingUri, uniqueName } from './mlflow-fixtures.js';
import { createTcpProxy, freePort } from './tcp-proxy.js';

/** A logger at level warn that hands each line it writes, parsed, to `onLine`. */
function warnLogger(onLine: (line: Record<string, unknown>) => void): Logger {
  return createLogger({ name: 'test', level: 'warn', destination: jsonLineSink(onLine) });
}

/** `promise`, and whether it has settled yet (for "still waiting" checks). */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled(): boolean } {
  let settled = false;
  const done = () => {
    settled = true;
  };
  promise.then(done, done);
  return { promise, settled: () => settled };
}

const client = testClient();
const name = uniqueName('loader');
const v1 = makeArtifact(11);
const v2 = makeArtifact(12);
let version1 = '';
let version2 = '';

async function rejection(promise: Promise<unknown>): Promise<InferenceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InferenceError);
  return error as InferenceError;
}

beforeAll(async () => {
  version1 = await publishArtifact(client, name, v1, 'champion');
  version2 = await publishVersion(client, name, v2.bytes, { tags: { 'holdout.auc': '0.7' } });
});
afterAll(() => cleanup(client, name));

describe('champion loader against the real MLflow', () => {
  it('resolves the champion alias, downloads and verifies the artifact, and builds a working scorer', async () => {
    const fetched = await fetchModel({ client, name, alias: 'champion', deadlineMs: 10_000 });
    expect(fetched.meta).toMatchObject({ name, version: version1, resolvedFrom: 'alias:champion', sha256: v1.sha256 });
    expect(fetched.meta.tags['artifact.sha256']).toBe(v1.sha256);
    expect(fetched.meta.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.compare(fetched.bytes, v1.bytes)).toBe(0);
    const model = loadedModel(fetched.meta, fetched.artifact);
    expect(model.scorer.score({ ad_id: 'a' })).toBeGreaterThan(0);
  });

  it('loads a pinned version instead of the alias', async () => {
    const fetched = await fetchModel({ client, name, alias: 'champion', version: version2, deadlineMs: 10_000 });
    expect(fetched.meta).toMatchObject({ version: version2, resolvedFrom: 'pinned', sha256: v2.sha256 });
    expect(fetched.meta.tags['holdout.auc']).toBe('0.7');
  });

  it('a missing pinned version is INFERENCE_MODEL_NOT_FOUND at once (no retrying)', async () => {
    const started = Date.now();
    const error = await rejection(fetchModel({ client, name, alias: 'champion', version: '999', deadlineMs: 20_000 }));
    expect(error.code).toBe(InferenceErrorCode.MODEL_NOT_FOUND);
    expect(error.message).toMatch(/MODEL_VERSION/);
    expect(Date.now() - started).toBeLessThan(10_000); // half its 20 s deadline: it did not retry until then
  });

  it('no champion yet (alias or whole model missing): waits until the deadline, then INFERENCE_MODEL_LOAD_DEADLINE', async () => {
    for (const options of [
      { name, alias: 'no-such-alias' },
      { name: uniqueName('absent'), alias: 'champion' },
    ]) {
      const waits: string[] = [];
      const started = Date.now();
      const error = await rejection(
        fetchModel({
          client,
          // Long enough for several MLflow round trips even at load 30 (one can take over a second).
          deadlineMs: 5_000,
          initialDelayMs: 50,
          maxDelayMs: 200,
          logger: warnLogger((line) => waits.push(line.msg as string)),
          ...options,
        }),
      );
      expect(error.code).toBe(InferenceErrorCode.MODEL_LOAD_DEADLINE);
      expect(error.message).toMatch(/does not exist.*MODEL_ALIAS/);
      // The loader gives up when its next wait (at most maxDelayMs) would cross the deadline.
      expect(Date.now() - started).toBeGreaterThanOrEqual(5_000 - 200);
      expect(waits.length).toBeGreaterThan(1);
      expect(waits[0]).toMatch(/no version has the alias .* yet; waiting/);
    }
  });

  it('no champion at start, promoted later: loads it as soon as the alias appears', async () => {
    const late = uniqueName('late');
    try {
      const loading = tracked(
        fetchModel({ client, name: late, alias: 'champion', deadlineMs: 30_000, initialDelayMs: 50, maxDelayMs: 200 }),
      );
      const artifact = makeArtifact(13);
      const version = await publishArtifact(client, late, artifact);
      expect(loading.settled()).toBe(false);
      await client.setAlias(late, 'champion', version);
      const fetched = await loading.promise;
      expect(fetched.meta).toMatchObject({
        name: late,
        version,
        resolvedFrom: 'alias:champion',
        sha256: artifact.sha256,
      });
    } finally {
      await cleanup(client, late);
    }
  });

  it('MLflow unreachable until the deadline: INFERENCE_MODEL_LOAD_DEADLINE, after retrying', async () => {
    const port = await freePort();
    const down = createMlflowClient({ trackingUri: `http://127.0.0.1:${port}`, retry: { maxAttempts: 1 } });
    const retries: number[] = [];
    const started = Date.now();
    const error = await rejection(
      fetchModel({
        client: down,
        name,
        alias: 'champion',
        deadlineMs: 1_500,
        initialDelayMs: 50,
        maxDelayMs: 200,
        logger: warnLogger((line) => retries.push(line.attempt as number)),
      }),
    );
    expect(error.code).toBe(InferenceErrorCode.MODEL_LOAD_DEADLINE);
    expect(error.message).toMatch(/1500 ms/);
    expect(Date.now() - started).toBeLessThan(1_500 + 5_000); // the deadline, plus room for a busy machine
    expect(retries.length).toBeGreaterThan(2);
    expect(retries.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('MLflow down at start, back later: keeps retrying and loads once it is back', async () => {
    const target = new URL(trackingUri());
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port) });
    const viaProxy = createMlflowClient({ trackingUri: `http://127.0.0.1:${proxy.port}`, retry: { maxAttempts: 1 } });
    try {
      const loading = tracked(
        fetchModel({
          client: viaProxy,
          name,
          alias: 'champion',
          deadlineMs: 20_000,
          initialDelayMs: 100,
          maxDelayMs: 300,
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(loading.settled()).toBe(false);
      await proxy.start();
      const fetched = await loading.promise;
      expect(fetched.meta.version).toBe(version1);
    } finally {
      await proxy.stop();
    }
  });
});

describe('a corrupt or unknown artifact is never served', () => {
  const bad = uniqueName('corrupt');
  afterAll(() => cleanup(client, bad));

  async function refusal(
    bytes: Uint8Array,
    tags: Record<string, string> = {},
    maxArtifactBytes?: number,
  ): Promise<InferenceError> {
    const version = await publishVersion(client, bad, bytes, { tags });
    const error = await rejection(
      fetchModel({
        client,
        name: bad,
        alias: 'champion',
        version,
        deadlineMs: 20_000,
        ...(maxArtifactBytes ? { maxArtifactBytes } : {}),
      }),
    );
    expect(error.code).toBe(InferenceErrorCode.ARTIFACT_REJECTED);
    expect(error.message).toContain(`version ${version}`);
    return error;
  }

  it('a flipped weight byte: checksum mismatch', async () => {
    const text = v1.bytes.toString('utf8');
    const at = text.indexOf('"values":"') + 20;
    const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const error = await refusal(Buffer.from(flipped));
    expect((error.cause as { code?: string }).code).toBe(ModelErrorCode.ARTIFACT_CHECKSUM_MISMATCH);
  });

  it('an unknown format version', async () => {
    const doc = JSON.parse(v1.bytes.toString('utf8')) as Record<string, unknown>;
    const error = await refusal(Buffer.from(JSON.stringify({ ...doc, formatVersion: 99 })));
    expect((error.cause as { code?: string }).code).toBe(ModelErrorCode.ARTIFACT_UNSUPPORTED_VERSION);
    expect(error.message).toMatch(/99/);
  });

  it('not an artifact at all, and a truncated file', async () => {
    await refusal(Buffer.from('<html>not a model</html>'));
    await refusal(v1.bytes.subarray(0, v1.bytes.length - 10));
  });

  it('a valid artifact that is not the one the trainer recorded in artifact.sha256', async () => {
    const error = await refusal(v2.bytes, { 'artifact.sha256': v1.sha256 });
    expect(error.message).toContain(v1.sha256);
  });

  it('an artifact over MAX_ARTIFACT_BYTES, by the registry listing, before a byte is downloaded', async () => {
    const error = await refusal(v1.bytes, {}, v1.bytes.length - 1);
    expect(error.message).toMatch(/registry lists .* at \d+ bytes, more than MAX_ARTIFACT_BYTES/);
    expect(error.cause).toBeUndefined();
  });

  it('a valid artifact padded with an unknown top-level key: bytes outside the checksum', async () => {
    const doc = JSON.parse(v1.bytes.toString('utf8')) as Record<string, unknown>;
    const padded = Buffer.from(`${JSON.stringify({ ...doc, padding: 'x'.repeat(200_000) })}\n`);
    const error = await refusal(padded);
    expect((error.cause as { code?: string }).code).toBe(ModelErrorCode.ARTIFACT_MALFORMED);
    expect(error.message).toMatch(/padding/);
  });

  it('a valid artifact padded with whitespace: bytes outside the checksum', async () => {
    const error = await refusal(Buffer.concat([v1.bytes, Buffer.alloc(100_000, 0x20)]));
    expect(error.message).toMatch(/outside the checksum/);
  });
});
