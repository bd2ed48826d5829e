import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { InferenceConfig } from './config.js';
import type { InferenceMetrics } from './metrics.js';
import type { ModelHolder } from './model-holder.js';

export interface HttpServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Graceful stop: /readyz turns 503 at once, requests are still served for `drainMs` (so load
   * balancers stop sending), then the listener closes and in-flight requests finish. Resolves
   * true when everything closed within `graceMs` after the drain.
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
}): Promise<HttpServer> {
  const { config, holder, logger } = options;
  const app = await buildApp({
    holder,
    logger,
    maxBatchSize: config.maxBatchSize,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    apiTokens: config.apiTokens,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.metricsText ? { metricsText: options.metricsText } : {}),
  });
  const url = await app.listen({ host: config.host, port: config.port });
  let draining: Promise<boolean> | undefined;
  return {
    app,
    url,
    drain(drainOptions = {}) {
      draining ??= (async () => {
        holder.startDraining();
        const drainMs = drainOptions.skipDrainDelay ? 0 : config.drainMs;
        logger.info({ drainMs, graceMs: config.graceMs }, 'draining: /readyz now 503');
        if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), config.graceMs);
        });
        const closed = app.close().then(() => true);
        // close() drops the connections idle at that moment; a keep-alive connection busy then goes
        // idle when its response is sent and would hold close() open until keepAliveTimeout.
        const sweeper = setInterval(() => app.server.closeIdleConnections(), 50);
        const clean = await Promise.race([closed, grace]);
        clearInterval(sweeper);
        clearTimeout(timer);
        if (!clean)
          logger.warn({ graceMs: config.graceMs }, 'in-flight requests did not finish within the grace period');
        return clean;
      })();
      return draining;
    },
  };
}
