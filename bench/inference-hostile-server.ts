/**
 * Child of bench/inference-hostile.ts: one inference worker's HTTP server (startHttpServer, the same
 * app a cluster worker runs) with a 2^20-bucket model, listening on PORT. Its RSS is read from /proc
 * by the parent, so the figures are this process alone. FUSED_BODY_SCAN=false serves every body by the
 * exact path (JSON.parse), for bench/inference-floor.ts's comparison.
 */
import { createModelHolder } from '@fallback-ctr/inference';
import { silentLogger } from '@fallback-ctr/runtime';
import { startHttpServer } from '../services/inference/src/http-server.js';
import { benchServingModel } from './support/bench-serving-model.js';

const model = benchServingModel();
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
  fusedBodyScan: process.env.FUSED_BODY_SCAN !== 'false',
});
process.stdout.write(`${server.url}\n`);
