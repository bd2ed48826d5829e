import { errorCodes, type FastifyInstance } from 'fastify';
import { type JsonShapeLimits, scanJsonShape } from './json-shape-scan.js';
import type { ValidationIssue } from './validation-issue.js';

function unsupportedEncoding(encoding: string): Error {
  return Object.assign(
    new Error(`Content-Encoding "${encoding}" is not supported: send the JSON body uncompressed (identity)`),
    { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' },
  );
}

/** A shape fault found before parsing, thrown like the schema validator's faults (same 400, same issues). */
function shapeFault(issue: ValidationIssue): Error {
  return Object.assign(new Error(`body ${issue.instancePath} ${issue.message}`), {
    statusCode: 400,
    validation: [issue],
    validationContext: 'body',
  });
}

/**
 * The one body parser: `application/json`, uncompressed (any other Content-Encoding is a 415, not
 * a JSON error later), parsed by plain JSON.parse. Fastify's default parser also scans every body
 * for `__proto__` and `constructor` keys; that scan is skipped because nothing here can be
 * poisoned by them: JSON.parse makes such keys plain own properties, the body is validated and
 * then only read by field name, never merged or copied into another object (a test sends
 * poisoning bodies and checks both the scores and Object.prototype).
 *
 * Before JSON.parse, the text's shape is scanned (nesting, members per object and array): the costs
 * a hostile body can impose lie inside the parse, so they are refused before it (scanJsonShape).
 *
 * `fastPath`, when given, reads the text first (the /predict body scan): what it returns is the body;
 * when it returns undefined the text takes the path above.
 */
export function installJsonBodyParser(
  app: FastifyInstance,
  shapeLimits: JsonShapeLimits,
  fastPath?: (text: string) => object | undefined,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      done(unsupportedEncoding(encoding), undefined);
      return;
    }
    if (body === '') {
      done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
      return;
    }
    const text = body as string;
    const read = fastPath?.(text);
    if (read !== undefined) {
      done(null, read);
      return;
    }
    const fault = scanJsonShape(text, shapeLimits);
    if (fault) {
      done(shapeFault(fault), undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
      return;
    }
    done(null, parsed);
  });
}
