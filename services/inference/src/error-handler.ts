import type { Logger } from '@fallback-ctr/runtime';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InferenceErrorCode } from './errors.js';
import type { InferenceMetrics } from './metrics.js';
import { MAX_ISSUES } from './predict-limits.js';
import type { ErrorResponse } from './predict-schemas.js';
import type { ValidationIssue } from './validation-issue.js';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (status < 500 ? 'Bad Request' : 'Internal Server Error');
}

/** JSON pointer of the offending field; for a missing or unexpected key, the key itself. */
export function issuePath(issue: ValidationIssue): string {
  const key = issue.params.missingProperty ?? issue.params.additionalProperty ?? issue.params.propertyName;
  const base = issue.instancePath === '' ? '' : issue.instancePath;
  return typeof key === 'string' ? `${base}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : base || '/';
}

export function validationIssues(validation: readonly ValidationIssue[]): { path: string; message: string }[] {
  const seen = new Set<string>();
  const issues: { path: string; message: string }[] = [];
  for (const v of validation) {
    const path = issuePath(v);
    const message = v.keyword === 'required' ? 'is required' : (v.message ?? v.keyword);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues;
}

/** The one error path of the server: every error response is shaped, logged and counted here. */
export interface ErrorReplies {
  /** Sends `{statusCode, code, error, message, issues?}` and counts it in errors_total. */
  send(
    reply: FastifyReply,
    status: number,
    code: InferenceErrorCode,
    message: string,
    issues?: ErrorResponse['issues'],
  ): FastifyReply;
  /** Fastify's error handler: maps what was thrown (validation, Fastify's client faults, bugs) onto send. */
  handler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void;
}

export function createErrorReplies(logger: Logger, metrics: InferenceMetrics): ErrorReplies {
  const send: ErrorReplies['send'] = (reply, status, code, message, issues) => {
    metrics.errors.inc({ code, status_code: status });
    if (status < 500 && logger.isLevelEnabled('debug')) {
      logger.debug({ reqId: reply.request.id, status, detail: message }, 'client error');
    }
    const body: ErrorResponse = { statusCode: status, code, error: statusText(status), message };
    if (issues) body.issues = issues;
    return reply.code(status).send(body);
  };

  function handler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (error.validation) {
      // The body validator stops collecting past MAX_ISSUES, so "more" is known, not counted.
      const all = validationIssues(error.validation as ValidationIssue[]);
      const issues = all.slice(0, MAX_ISSUES);
      const more = all.length > issues.length ? ' (and more)' : '';
      const list = issues.map((i) => `${i.path} ${i.message}`).join('; ');
      const message = `invalid request ${error.validationContext ?? 'body'}: ${list}${more}`;
      send(reply, 400, InferenceErrorCode.INVALID_REQUEST, message, issues);
    } else if (status >= 400 && status < 500) {
      // Fastify's own client faults: malformed JSON, empty body, wrong content type, body too large, ...
      const code = status === 401 ? InferenceErrorCode.UNAUTHORIZED : InferenceErrorCode.INVALID_REQUEST;
      send(reply, status, code, error.code ? `${error.message} (${error.code})` : error.message);
    } else if (status === 503) {
      send(reply, 503, InferenceErrorCode.NOT_READY, error.message);
    } else {
      logger.error({ err: error, reqId: request.id, url: request.url }, 'unhandled error');
      send(reply, 500, InferenceErrorCode.INTERNAL, 'internal error; the request was not at fault and may be retried');
    }
  }

  return { send, handler };
}
