import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.js';
import { loadedHolder } from './fixtures.js';

type App = Awaited<ReturnType<typeof buildApp>>;

interface Case {
  name: string;
  status: number;
  payload?: string | Buffer;
  contentType?: string | null;
  method?: 'POST' | 'GET' | 'PUT';
  /** Every one of these JSON pointers must be reported in `issues`. */
  paths?: string[];
  /** The message must match. */
  message?: RegExp;
}

const json = (value: unknown) => JSON.stringify(value);
const deep = (n: number, leaf: string) => '{"a":'.repeat(n) + leaf + '}'.repeat(n);

const cases: Case[] = [
  { name: 'no body at all', status: 400, contentType: null, message: /body/ },
  { name: 'empty JSON body', status: 400, payload: '', message: /empty|body/i },
  { name: 'invalid JSON', status: 400, payload: '{"impressions": [', message: /JSON/i },
  { name: 'JSON null', status: 400, payload: 'null', message: /body/ },
  { name: 'a JSON array instead of an object', status: 400, payload: '[{}]', paths: ['/'] },
  { name: 'a string instead of an object', status: 400, payload: '"hello"', paths: ['/'] },
  { name: 'impressions missing', status: 400, payload: json({}), paths: ['/impressions'] },
  { name: 'impressions not an array', status: 400, payload: json({ impressions: {} }), paths: ['/impressions'] },
  {
    name: 'empty batch',
    status: 400,
    payload: json({ impressions: [] }),
    paths: ['/impressions'],
    message: /fewer than 1/,
  },
  {
    name: 'too many impressions',
    status: 400,
    payload: json({ impressions: Array.from({ length: 11 }, () => ({})) }),
    paths: ['/impressions'],
    message: /more than 10/,
  },
  {
    name: 'wrong types in several impressions (every path reported)',
    status: 400,
    payload: json({
      impressions: [
        { slot_id: 5, country: 'DE' },
        { id: 7, context: { hour_of_day: [1] } },
        { context: 'x', os: null },
        'not an object',
      ],
    }),
    paths: [
      '/impressions/0/slot_id',
      '/impressions/1/id',
      '/impressions/1/context/hour_of_day',
      '/impressions/2/context',
      '/impressions/2/os',
      '/impressions/3',
    ],
  },
  {
    name: 'context value is an object',
    status: 400,
    payload: json({ impressions: [{ context: { a: { b: 1 } } }] }),
    paths: ['/impressions/0/context/a'],
  },
  {
    name: 'id too long',
    status: 400,
    payload: json({ impressions: [{ id: 'x'.repeat(257) }] }),
    paths: ['/impressions/0/id'],
  },
  {
    name: 'deeply nested context',
    status: 400,
    payload: `{"impressions":[{"context":${deep(500, '1')}}]}`,
    paths: ['/impressions/0/context/a'],
  },
  {
    name: 'deeply nested arrays as the body',
    status: 400,
    payload: `${'['.repeat(2000)}${']'.repeat(2000)}`,
    paths: ['/'],
  },
  { name: '__proto__ key (prototype poisoning)', status: 400, payload: '{"impressions":[{"__proto__":{"x":1}}]}' },
  {
    name: 'constructor.prototype key',
    status: 400,
    payload: '{"impressions":[{"constructor":{"prototype":{"x":1}}}]}',
  },
  {
    name: 'wrong content type: text/plain',
    status: 415,
    payload: json({ impressions: [{}] }),
    contentType: 'text/plain',
  },
  { name: 'wrong content type: form', status: 415, payload: 'a=1', contentType: 'application/x-www-form-urlencoded' },
  { name: 'wrong content type: xml', status: 415, payload: '<a/>', contentType: 'application/xml' },
  { name: 'body over the limit', status: 413, payload: json({ impressions: [{ id: 'x'.repeat(5000) }] }) },
  { name: 'GET on /predict', status: 404, method: 'GET' },
  { name: 'unknown route', status: 404, method: 'POST', payload: '{}', paths: undefined },
];

describe('bad requests to POST /predict: each a 4xx with a useful message', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp({ holder: loadedHolder(), maxBatchSize: 10, bodyLimitBytes: 4096 });
  });
  afterAll(() => app.close());

  it.each(cases)('$name → $status', async (c) => {
    const headers: Record<string, string> = {};
    if (c.contentType !== null) headers['content-type'] = c.contentType ?? 'application/json';
    const res = await app.inject({
      method: c.method ?? 'POST',
      url: c.name === 'unknown route' ? '/predictions' : '/predict',
      headers,
      ...(c.payload !== undefined ? { payload: c.payload } : {}),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    const body = res.json() as {
      statusCode: number;
      code: string;
      error: string;
      message: string;
      issues?: { path: string; message: string }[];
    };
    expect(body.statusCode).toBe(c.status);
    expect(body.code).toBe('INFERENCE_INVALID_REQUEST');
    expect(body.message.length).toBeGreaterThan(5);
    if (c.message) expect(body.message).toMatch(c.message);
    if (c.paths) {
      const reported = (body.issues ?? []).map((i) => i.path);
      for (const p of c.paths) expect(reported, body.message).toContain(p);
      for (const p of c.paths) expect(body.message).toContain(p);
    }
  });

  it('very deep nesting within a large body limit is a 400, and the server stays healthy', async () => {
    const big = await buildApp({ holder: loadedHolder(), bodyLimitBytes: 8 * 1024 * 1024 });
    try {
      const bodies = [
        `${'['.repeat(500_000)}${']'.repeat(500_000)}`,
        `{"impressions":[{"context":${deep(200_000, '"x"')}}]}`,
        `{"impressions":[${'['.repeat(300_000)}${']'.repeat(300_000)}]}`,
        `{"impressions":[{"__proto__":${deep(100_000, '1')}}]}`,
      ];
      for (const payload of bodies) {
        const res = await big.inject({
          method: 'POST',
          url: '/predict',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
      }
      const ok = await big.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await big.close();
    }
  });

  it('caps the issues listed for a body with very many wrong fields', async () => {
    const impressions = Array.from({ length: 10 }, () => ({ slot_id: 1, placement: 2, ad_id: 3, os: 4 }));
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { message: string; issues: unknown[] };
    expect(body.issues).toHaveLength(20);
    expect(body.message).toMatch(/and 20 more/);
  });
});
