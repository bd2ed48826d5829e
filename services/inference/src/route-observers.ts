import type { Logger } from '@fallback-ctr/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import type { HistogramSeries } from './bound-histogram.js';
import type { InferenceMetrics } from './metrics.js';

export interface RouteObservers {
  /** Methods served on a path (empty when none), for 405 with `Allow` instead of 404. */
  allowedMethods(path: string): readonly string[];
  /** Records a request no route matched (under route "unmatched"). */
  observeUnmatched(request: FastifyRequest, reply: FastifyReply): void;
}

/**
 * An `onRoute` hook that gives every route registered after it a duration observer and records its
 * methods. The labels are fixed at registration: nothing is looked up or allocated per request beyond
 * one Map read (request.routeOptions builds an object on every read). Per-request log lines only at
 * debug, so logging costs nothing on the hot path.
 */
export function observeRoutes(app: FastifyInstance, metrics: InferenceMetrics, logger: Logger): RouteObservers {
  const logRequests = logger.isLevelEnabled('debug');
  const observer = (method: string, route: string) => {
    const byStatus = new Map<number, HistogramSeries>();
    return (request: FastifyRequest, reply: FastifyReply) => {
      const status = reply.statusCode;
      let child = byStatus.get(status);
      if (!child) {
        child = metrics.requestDuration.series({ method, route, status_code: String(status) });
        byStatus.set(status, child);
      }
      child.observe(reply.elapsedTime / 1000);
      if (logRequests) {
        logger.debug({ reqId: request.id, method, url: request.url, status, ms: reply.elapsedTime }, 'request');
      }
    };
  };
  const methodsByPath = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
    methodsByPath.set(route.url, [...(methodsByPath.get(route.url) ?? []), method]);
    const observe = observer(method, route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      observe(request, reply);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
  return { allowedMethods: (path) => methodsByPath.get(path) ?? [], observeUnmatched: observer('*', 'unmatched') };
}
