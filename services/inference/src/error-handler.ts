import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { InferenceErrorCode } from './errors.js';
import type { InferenceMetrics } from './metrics.js';
import type { ErrorResponse } from './predict-schemas.js';

/** Enough paths to fix a request; a body with thousands of bad fields does not get thousands back. */
export const MAX_ISSUES = 20;

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
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
export function issuePath(issue: AjvIssue): string {
  const key = issue.params.missingProperty ?? issue.params.additionalProperty ?? issue.params.propertyName;
  const base = issue.instancePath === '' ? '' : issue.instancePath;
  return typeof key === 'string' ? `${base}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : base || '/';
}

export function validationIssues(validation: readonly AjvIssue[]): { path: string; message: string }[] {
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

export function createErrorHandler(logger: Logger, metrics: InferenceMetrics) {
  return function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    let body: ErrorResponse;
    if (error.validation) {
      const all = validationIssues(error.validation as AjvIssue[]);
      const issues = all.slice(0, MAX_ISSUES);
      const more = all.length > issues.length ? ` (and ${all.length - issues.length} more)` : '';
      body = {
        statusCode: 400,
        code: InferenceErrorCode.INVALID_REQUEST,
        error: statusText(400),
        message: `invalid request ${error.validationContext ?? 'body'}: ${issues
          .map((i) => `${i.path} ${i.message}`)
          .join('; ')}${more}`,
        issues,
      };
    } else if (status >= 400 && status < 500) {
      // Fastify's own client faults: malformed JSON, empty body, wrong content type, body too large, ...
      body = {
        statusCode: status,
        code: status === 401 ? InferenceErrorCode.UNAUTHORIZED : InferenceErrorCode.INVALID_REQUEST,
        error: statusText(status),
        message: error.code ? `${error.message} (${error.code})` : error.message,
      };
    } else if (status === 503) {
      body = { statusCode: 503, code: InferenceErrorCode.NOT_READY, error: statusText(503), message: error.message };
    } else {
      logger.error({ err: error, reqId: request.id, url: request.url }, 'unhandled error');
      body = {
        statusCode: 500,
        code: InferenceErrorCode.INTERNAL,
        error: statusText(500),
        message: 'internal error; the request was not at fault and may be retried',
      };
    }
    if (body.statusCode < 500 && logger.isLevelEnabled('debug')) {
      logger.debug({ reqId: request.id, status: body.statusCode, detail: body.message }, 'client error');
    }
    metrics.errors.inc({ code: body.code, status_code: body.statusCode });
    reply.code(body.statusCode).send(body);
  };
}
