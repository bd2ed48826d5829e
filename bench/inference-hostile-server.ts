/**
 * Child of bench/inference-hostile.ts: one inference worker's HTTP server (startHttpServer, the same
 * app a cluster worker runs) with a 2^20-bucket model, listening on PORT. Its RSS is read from /proc
 * by the parent, so the figures are this process alone.
 */
import { createModelHolder, loadedModel } from '@fallback-ctr/inference';
import { defaultFeatureSpec, parseArtifact, serializeArtifact } from '@fallback-ctr/model';
import { silentLogger } from '@fallback-ctr/runtime';
import { startHttpServer } from '../services/inference/src/http-server.js';

const size = 2 ** defaultFeatureSpec.hashBits;
const weights = new Float32Array(size);
for (let i = 0; i < size; i += 7) weights[i] = ((i % 13) - 6) / 10;
const { bytes, sha256 } = serializeArtifact({
  featureSpec: defaultFeatureSpec,
  bias: -3.9,
  weights,
  training: {
    algorithm: 'ftrl-proximal',
    hyperparameters: {},
    rows: 1,
    positives: 0,
    passes: 1,
    seed: 1,
    createdAt: new Date().toISOString(),
  },
});
const model = loadedModel(
  {
    name: 'bench',
    version: '1',
    resolvedFrom: 'pinned',
    runId: 'r',
    tags: {},
    loadedAt: new Date().toISOString(),
    sha256,
  },
  parseArtifact(bytes),
);
const server = await startHttpServer({
  config: {
    host: '127.0.0.1',
    port: Number(process.env.PORT ?? 0),
    maxBatchSize: 1000,
    bodyLimitBytes: 1024 * 1024,
    requestTimeoutMs: 10_000,
    apiTokens: [],
    drainMs: 0,
    graceMs: 1_000,
  },
  holder: createModelHolder(model),
  logger: silentLogger(),
});
process.stdout.write(`${server.url}\n`);
