import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMlflowClient, type Experiment, type MlflowError, MlflowErrorCode, type Run } from '../src/index.js';
import { sharedTrackingUri, uniqueName } from './support/names.js';
import { mlflowRejection } from './support/rejection.js';

const client = createMlflowClient({ trackingUri: sharedTrackingUri() });
let experiment: Experiment;
let run: Run;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mlflowlib-artifacts-'));
  experiment = await client.getOrCreateExperiment(uniqueName('artifacts'));
  run = await client.createRun({ experimentId: experiment.experimentId });
});

afterAll(async () => {
  await client.deleteArtifacts(run.info.artifactUri);
  await client.deleteExperiment(experiment.experimentId);
  await rm(dir, { recursive: true, force: true });
});

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

describe('artifacts through the proxy', () => {
  it('uploads a buffer, a file, a Node stream and a web stream, and lists them', async () => {
    const uri = run.info.artifactUri;
    const bytes = randomBytes(10_000);
    await client.uploadArtifact(uri, 'model/model.bin', bytes);
    const file = join(dir, 'report.json');
    await pipeline(Readable.from([Buffer.from('{"gate":"PASS"}')]), createWriteStream(file));
    await client.uploadArtifact(uri, 'reports/gate.json', { filePath: file });
    await client.uploadArtifact(
      uri,
      'reports/stream.txt',
      Readable.from(
        (function* () {
          for (let i = 0; i < 100; i++) yield Buffer.from(`line ${i}\n`);
        })(),
      ),
    );
    await client.uploadArtifact(
      uri,
      'reports/nested/web.txt',
      Readable.toWeb(Readable.from([Buffer.from('web')])) as ReadableStream<Uint8Array>,
    );

    const root = await client.listArtifacts(uri);
    expect(root.map((f) => [f.path, f.isDir]).sort()).toEqual([
      ['model', true],
      ['reports', true],
    ]);
    const reports = await client.listArtifacts(uri, 'reports');
    expect(reports.map((f) => f.path).sort()).toEqual(['reports/gate.json', 'reports/nested', 'reports/stream.txt']);
    expect(reports.find((f) => f.path === 'reports/gate.json')?.fileSize).toBe(15);
    expect(await client.listArtifacts(uri, 'nothing-here')).toEqual([]);

    expect((await client.downloadArtifact(uri, 'model/model.bin')).equals(bytes)).toBe(true);
    expect((await client.downloadArtifact(uri, 'reports/gate.json')).toString()).toBe('{"gate":"PASS"}');
    expect((await client.downloadArtifact(uri, 'reports/stream.txt')).toString().split('\n')).toHaveLength(101);
    const stream = await client.openArtifactStream(uri, 'reports/nested/web.txt');
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('web');
    // The model-version source form (`<artifact_uri>/model`) works as a root too.
    expect((await client.downloadArtifact(`${uri}/model`, 'model.bin')).equals(bytes)).toBe(true);
  });

  it('downloadArtifact with maxBytes: refuses a larger file without reading it all', async () => {
    const uri = run.info.artifactUri;
    const bytes = Buffer.alloc(300_000, 7);
    await client.uploadArtifact(uri, 'big.bin', bytes);
    expect((await client.downloadArtifact(uri, 'big.bin', { maxBytes: bytes.length })).equals(bytes)).toBe(true);
    const error = await mlflowRejection(client.downloadArtifact(uri, 'big.bin', { maxBytes: 1_000 }));
    expect(error.code).toBe(MlflowErrorCode.ARTIFACT_TOO_LARGE);
    expect(error.message).toMatch(/more than the 1000 bytes allowed/);
  });

  it('round-trips a 50 MB file byte-identical, streamed to disk', async () => {
    const source = join(dir, 'big.bin');
    const block = randomBytes(1 << 20);
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 50; i++) {
            block[0] = i;
            yield Buffer.from(block);
          }
        })(),
      ),
      createWriteStream(source),
    );
    await client.uploadArtifact(run.info.artifactUri, 'big/big.bin', { filePath: source });
    const target = join(dir, 'big.copy');
    const result = await client.downloadArtifactToFile(run.info.artifactUri, 'big/big.bin', target);
    expect(result.bytes).toBe(50 * (1 << 20));
    expect((await stat(target)).size).toBe(50 * (1 << 20));
    expect(result.sha256).toBe(await sha256File(source));
    expect(await sha256File(target)).toBe(result.sha256);
    await client.deleteArtifacts(run.info.artifactUri, 'big');
    expect((await client.listArtifacts(run.info.artifactUri)).map((f) => f.path)).not.toContain('big');
  });

  it('reports a missing artifact as RESOURCE_DOES_NOT_EXIST and leaves no partial file', async () => {
    const target = join(dir, 'missing.bin');
    const error = await mlflowRejection(
      client.downloadArtifactToFile(run.info.artifactUri, 'model/missing.bin', target),
    );
    expect(error.mlflowErrorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(error.method).toBe('GET');
    await expect(readFile(target)).rejects.toThrow(/ENOENT/);
  });

  it('refuses experiments whose artifacts live in another store', async () => {
    const s3 = await client.getOrCreateExperiment(uniqueName('s3'), { artifactLocation: 's3://some-bucket/prefix' });
    try {
      const s3run = await client.createRun({ experimentId: s3.experimentId });
      expect(s3run.info.artifactUri).toMatch(/^s3:\/\//);
      const error = await client
        .uploadArtifact(s3run.info.artifactUri, 'a.txt', Buffer.from('x'))
        .catch((e: unknown) => e);
      expect((error as MlflowError).code).toBe(MlflowErrorCode.UNSUPPORTED_ARTIFACT_URI);
      expect((error as MlflowError).message).toContain('s3://some-bucket/prefix');
    } finally {
      await client.deleteExperiment(s3.experimentId);
    }
  });
});
