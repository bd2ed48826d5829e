/**
 * Baseline (b) of bench/inference-bench.ts: the floor. A bare Fastify route that parses the JSON
 * body and returns a constant response of the same size as the real service's.
 * Env: PORT, BARE_RESPONSES = JSON {"<batch size>": "<response body>"}; the request's
 * `impressions.length` picks the constant.
 */
import Fastify from 'fastify';

const responses = JSON.parse(process.env.BARE_RESPONSES ?? '{}') as Record<string, string>;
const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
app.post('/predict', (request, reply) => {
  const n = (request.body as { impressions?: unknown[] }).impressions?.length ?? 0;
  reply.type('application/json; charset=utf-8').send(responses[String(n)] ?? '{}');
});
app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
