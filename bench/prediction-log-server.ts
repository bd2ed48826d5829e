/**
 * Child of bench/prediction-log.ts: one inference worker's HTTP server (startHttpServer, the same app a
 * cluster worker runs) with a 2^20-bucket model, listening on an ephemeral port; with
 * PREDICTION_LOG_DATABASE_URL set it logs what it serves, as a worker does. Its CPU time is read from
 * /proc by the parent, so the figures are this process alone. SIGTERM closes the log (flushes) and exits.
 */
import { createMetrics, createModelHolder, loadConfig } from '@fallback-ctr/inference';
import { silentLogger } from '@fallback-ctr/runtime';
import { startHttpServer } from '../services/inference/src/http-server.js';
import { createInferencePredictionLog } from '../services/inference/src/prediction-log.js';
import { benchServingModel } from './support/bench-serving-model.js';

const model = benchServingModel();
const config = loadConfig({ ...process.env, MLFLOW_TRACKING_URI: 'http://127.0.0.1:1', PORT: '0', HOST: '127.0.0.1' });
const metrics = createMetrics();
const predictionLog = config.predictionLog
  ? createInferencePredictionLog(config.predictionLog, metrics, silentLogger())
  : undefined;
const server = await startHttpServer({
  config: { ...config, drainMs: 0 },
  holder: createModelHolder(model),
  logger: silentLogger(),
  metrics,
  ...(predictionLog ? { predictionLog } : {}),
});
process.on('SIGTERM', async () => {
  await server.drain({ skipDrainDelay: true });
  await predictionLog?.close();
  process.stdout.write(`${JSON.stringify(predictionLog?.stats() ?? null)}\n`);
  process.exit(0);
});
process.stdout.write(`${server.url}\n`);
