import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { PredictionLogWriter } from '@fallback-ctr/prediction-log';
import { type Logger, raceTimer } from '@fallback-ctr/runtime';
import type { FastifyInstance } from 'fastify';
import { type BuildAppOptions, buildApp } from './app.js';
import type { InferenceConfig } from './config.js';
import type { InferenceMetrics } from './metrics.js';
import type { ModelHolder } from './model-holder.js';

export interface HttpServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Graceful stop: /readyz turns 503 at once and every response from then on closes its connection
   * (`Connection: close`); requests are still served for `drainMs` (so load balancers stop sending
   * and clients move their connections), then the listener closes with the connections still idle,
   * and in-flight requests finish. Resolves true when everything closed within `graceMs` after the drain.
   */
  drain(options?: { skipDrainDelay?: boolean }): Promise<boolean>;
}

export type HttpServerConfig = Pick<
  InferenceConfig,
  'host' | 'port' | 'maxBatchSize' | 'bodyLimitBytes' | 'requestTimeoutMs' | 'apiTokens' | 'drainMs' | 'graceMs'
>;

export async function startHttpServer(options: {
  config: HttpServerConfig;
  holder: ModelHolder;
  logger: Logger;
  metrics?: InferenceMetrics;
  metricsText?: () => Promise<string>;
  shadow?: BuildAppOptions['shadow'];
  predictionLog?: PredictionLogWriter;
  fusedBodyScan?: boolean;
}): Promise<HttpServer> {
  const { config, holder, logger } = options;
  const app = await buildApp({
    holder,
    logger,
    maxBatchSize: config.maxBatchSize,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    apiTokens: config.apiTokens,
    metrics: options.metrics,
    metricsText: options.metricsText,
    shadow: options.shadow,
    predictionLog: options.predictionLog,
    fusedBodyScan: options.fusedBodyScan,
  });
  const url = await app.listen({ host: config.host, port: config.port });
  let draining: Promise<boolean> | undefined;
  return {
    app,
    url,
    drain(drainOptions = {}) {
      draining ??= (async () => {
        holder.startDraining();
        // From now on every response says `Connection: close` and its connection is closed after it:
        // a client that keeps connections (or kube-proxy's conntrack, which pins them to this pod)
        // reconnects, and new connections go to ready pods. Set before Fastify sees the request.
        app.server.prependListener('request', closeAfterResponse);
        const drainMs = drainOptions.skipDrainDelay ? 0 : config.drainMs;
        logger.info(
          { drainMs, graceMs: config.graceMs },
          'draining: /readyz now 503, responses close their connection',
        );
        if (drainMs > 0) await delay(drainMs);
        // Stops listening and closes the connections idle now (idle through the whole drain); busy
        // ones close after their response, so close() resolves when the last one is answered.
        const clean = await raceTimer(
          app.close().then(() => true),
          config.graceMs,
          () => false,
        );
        if (!clean) {
          logger.warn({ graceMs: config.graceMs }, 'in-flight requests did not finish within the grace period');
        }
        return clean;
      })();
      return draining;
    },
  };
}

function closeAfterResponse(_request: IncomingMessage, response: ServerResponse): void {
  response.shouldKeepAlive = false;
}
