import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/index.js';
import { predictRequest } from './api-requests.js';
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
  headers?: Record<string, string>;
  url?: string;
  /** `paths` is the one and only issue reported. */
  onlyIssue?: boolean;
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
    name: 'deeply nested context (named where it passes 16 levels)',
    status: 400,
    payload: `{"impressions":[{"context":${deep(500, '1')}}]}`,
    paths: [`/impressions/0/context${'/a'.repeat(13)}`],
    onlyIssue: true,
    message: /more than 16 levels deep/,
  },
  {
    name: 'deeply nested arrays as the body',
    status: 400,
    payload: `${'['.repeat(2000)}${']'.repeat(2000)}`,
    paths: ['/0'.repeat(16)],
    onlyIssue: true,
  },
  {
    name: 'nesting within the limit under an ignored key is accepted',
    status: 200,
    payload: json({ impressions: [{ extra: { a: [[[[[[[[[{ b: 1 }]]]]]]]]] } }] }),
  },
  {
    name: 'an ignored object with too many keys',
    status: 400,
    payload: json({
      impressions: [{ extra: [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 1]))] }],
    }),
    paths: ['/impressions/0/extra/0'],
    onlyIssue: true,
    message: /more than 64 properties/,
  },
  {
    name: 'gzip Content-Encoding (not decoded, so refused)',
    status: 415,
    payload: json({ impressions: [{}] }),
    headers: { 'content-encoding': 'gzip' },
    message: /Content-Encoding "gzip"/,
  },
  {
    name: 'a batch far over the limit is refused on its length alone',
    status: 400,
    payload: json({ impressions: Array.from({ length: 1_500 }, () => 1) }),
    paths: ['/impressions'],
    onlyIssue: true,
    message: /more than 10 items/,
  },
  {
    name: 'a context with too many keys',
    status: 400,
    payload: json({
      impressions: [{ context: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, {}])) }],
    }),
    paths: ['/impressions/0/context'],
    onlyIssue: true,
    message: /more than 64 properties/,
  },
  {
    name: 'an impression with too many keys',
    status: 400,
    payload: json({ impressions: [Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 1]))] }),
    paths: ['/impressions/0'],
    onlyIssue: true,
  },
  {
    name: 'a column value too long',
    status: 400,
    payload: json({ impressions: [{}, { os: 'x'.repeat(1025) }] }),
    paths: ['/impressions/1/os'],
    onlyIssue: true,
  },
  {
    name: 'a context string value too long',
    status: 400,
    payload: json({ impressions: [{ context: { 'a/b': 'x'.repeat(1025) } }] }),
    paths: ['/impressions/0/context/a~1b'],
    onlyIssue: true,
  },
  {
    name: 'a context key too long',
    status: 400,
    payload: json({ impressions: [{ context: { ['k'.repeat(129)]: 1 } }] }),
    paths: ['/impressions/0/context'],
    onlyIssue: true,
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
  { name: 'GET on /predict', status: 405, method: 'GET', message: /accepts POST/ },
  { name: 'POST on /healthz', status: 405, method: 'POST', url: '/healthz', payload: '{}' },
  { name: 'unknown route', status: 404, method: 'POST', payload: '{}', paths: undefined },
];

describe('bad requests to POST /predict: each a 4xx with a useful message', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp({ holder: loadedHolder(), maxBatchSize: 10, bodyLimitBytes: 4096 });
  });
  afterAll(() => app.close());

  it.each(cases)('$name → $status', async (c) => {
    const headers: Record<string, string> = { ...c.headers };
    if (c.contentType !== null) headers['content-type'] = c.contentType ?? 'application/json';
    const res = await app.inject({
      method: c.method ?? 'POST',
      url: c.url ?? (c.name === 'unknown route' ? '/predictions' : '/predict'),
      headers,
      ...(c.payload !== undefined ? { payload: c.payload } : {}),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    if (c.status === 200) return;
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
      if (c.onlyIssue) expect(reported).toEqual(c.paths);
    }
    if (c.status === 405) expect(res.headers.allow).toMatch(/^[A-Z, ]+$/);
  });

  it('very deep nesting within a large body limit is a 400, and the server stays healthy', async () => {
    const big = await buildApp({ holder: loadedHolder(), bodyLimitBytes: 8 * 1024 * 1024 });
    try {
      const bodies = [
        `${'['.repeat(500_000)}${']'.repeat(500_000)}`,
        `{"impressions":[{"context":${deep(200_000, '"x"')}}]}`,
        `{"impressions":[${'['.repeat(300_000)}${']'.repeat(300_000)}]}`,
        `{"impressions":[{"context":{"a":${deep(100_000, '1')}}}]}`,
      ];
      for (const payload of bodies) {
        const res = await big.inject(predictRequest(payload));
        expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
      }
      const ok = await big.inject({ method: 'POST', url: '/predict', payload: { impressions: [{}] } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await big.close();
    }
  });

  it('refuses bodies whose cost lies inside JSON.parse before JSON.parse runs, naming the limit', async () => {
    const big = await buildApp({ holder: loadedHolder(), maxBatchSize: 1000, bodyLimitBytes: 1024 * 1024 });
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const hostile: [string, string, RegExp][] = [
        [
          `{"impressions":[{"context":${deep(150_000, '1')}}]}`,
          `/impressions/0/context${'/a'.repeat(13)}`,
          /more than 16 levels deep/,
        ],
        [
          json({
            impressions: [{ context: Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i])) }],
          }),
          '/impressions/0/context',
          /more than 64 properties/,
        ],
        [json({ impressions: Array.from({ length: 400_000 }, () => 1) }), '/impressions', /more than 1000 items/],
        [
          json({
            impressions: [{ ignored: Array.from({ length: 330 }, () => Array.from({ length: 1000 }, () => ({}))) }],
          }),
          '/impressions/0/ignored/8/3',
          /past the 8016 objects and arrays a body may hold/,
        ],
      ];
      for (const [payload, path, message] of hostile) {
        expect(payload.length).toBeGreaterThan(600_000);
        parse.mockClear();
        const res = await big.inject(predictRequest(payload));
        expect(parse.mock.calls.some(([text]) => text === payload)).toBe(false);
        expect(res.statusCode).toBe(400);
        const body = res.json() as { code: string; message: string; issues: { path: string; message: string }[] };
        expect(body.code).toBe('INFERENCE_INVALID_REQUEST');
        expect(body.issues).toEqual([{ path, message: expect.stringMatching(message) }]);
        expect(body.message).toContain(path);
      }
      // The same parser still parses what passes the scan (a non-ASCII value: the fused body scan leaves it to JSON.parse).
      parse.mockClear();
      const valid = json({ impressions: [{ os: 'iOS é' }] });
      const ok = await big.inject(predictRequest(valid));
      expect(ok.statusCode).toBe(200);
      expect(parse.mock.calls.some(([text]) => text === valid)).toBe(true);
    } finally {
      parse.mockRestore();
      await big.close();
    }
  });

  it('caps the issues listed for a body with very many wrong fields', async () => {
    const impressions = Array.from({ length: 10 }, () => ({ slot_id: 1, placement: 2, ad_id: 3, os: 4 }));
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { impressions } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { message: string; issues: unknown[] };
    expect(body.issues).toHaveLength(20);
    expect(body.message).toMatch(/\(and more\)$/);
  });

  it('a body of thousands of wrong fields within the byte limit reports 20 of them and walks no further', async () => {
    const big = await buildApp({ holder: loadedHolder(), maxBatchSize: 1000, bodyLimitBytes: 1024 * 1024 });
    try {
      // ~600 KB: 1000 impressions, each with 8 columns of the wrong type and padding (8,000 faults).
      // (Wrong context values would have to be objects or arrays: the shape scan refuses 64,000 of those.)
      const columns = ['slot_id', 'placement', 'ad_id', 'campaign_id', 'advertiser_id', 'device_type', 'os', 'country'];
      const impression = {
        ...Object.fromEntries(columns.map((column, i) => [column, i])),
        context: { note: 'n'.repeat(500) },
      };
      const payload = json({ impressions: Array.from({ length: 1000 }, () => impression) });
      expect(payload.length).toBeGreaterThan(500_000);
      const res = await big.inject(predictRequest(payload));
      expect(res.statusCode).toBe(400);
      const body = res.json() as { message: string; issues: { path: string }[] };
      expect(body.issues).toHaveLength(20);
      expect(body.issues.every((i) => /^\/impressions\/[0-2]\/[a-z_]+$/.test(i.path))).toBe(true);
      expect(body.message).toMatch(/\(and more\)$/);
    } finally {
      await big.close();
    }
  });
});
