import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorReplies } from './error-handler.js';
import { InferenceErrorCode } from './errors.js';
import type { RouteObservers } from './route-observers.js';

/** 405 with `Allow` when only the method is wrong, else 404; both counted under route "unmatched". */
export function notFoundHandler(errors: ErrorReplies, routes: RouteObservers) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    reply.raw.once('finish', () => routes.observeUnmatched(request, reply));
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.allowedMethods(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return errors.send(reply, 405, InferenceErrorCode.INVALID_REQUEST, `${path} accepts ${allowed.join(', ')}`);
    }
    return errors.send(reply, 404, InferenceErrorCode.INVALID_REQUEST, `no route ${request.method} ${path}`);
  };
}
