import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/index.js';
import { loadedHolder, randomImpression, seededRandom } from './fixtures.js';

type App = Awaited<ReturnType<typeof buildApp>>;

const FIELDS = ['slot_id', 'placement', 'ad_id', 'campaign_id', 'advertiser_id', 'device_type', 'os', 'country', 'id'];
const CONTEXT = ['hour_of_day', 'user_age_days', 'page_views', 'site_category', 'other'];

function fuzzer(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const text = (): string => {
    const alphabets = ['abc', '\u0000\u001f"\\/', '日本語🙂\u2028', '<script>', '%s%n', '𝕏'.repeat(3), ' '];
    let s = '';
    for (let i = int(12); i > 0; i--) s += pick(alphabets).charAt(int(6));
    return s;
  };
  const scalar = (): unknown =>
    pick([
      () => text(),
      () => int(1000) - 500,
      () => random() * 1e308 * (random() < 0.5 ? -1 : 1),
      () => pick([0, -0, 1e-320, Number.MAX_SAFE_INTEGER, 2 ** 64, -1, 23, 24, 3.5]),
      () => random() < 0.5,
      () => null,
    ])();
  const value = (depth: number): unknown => {
    if (depth > 3 || random() < 0.6) return scalar();
    if (random() < 0.5) return Array.from({ length: int(4) }, () => value(depth + 1));
    return Object.fromEntries(
      Array.from({ length: int(4) }, () => [pick([...FIELDS, ...CONTEXT, text()]), value(depth + 1)]),
    );
  };
  /** Well-typed but odd: any strings, any scalar context values, unknown keys of any type. */
  const validImpression = (): unknown => {
    const base: Record<string, unknown> = random() < 0.5 ? { ...randomImpression(random) } : {};
    for (let i = int(4); i > 0; i--) base[pick(FIELDS)] = text();
    const ctx: Record<string, unknown> = {};
    for (let i = int(5); i > 0; i--) ctx[pick([...CONTEXT, text()])] = scalar();
    if (random() < 0.7) base.context = ctx;
    if (random() < 0.2) base[`x_${text()}`] = value(0);
    return base;
  };
  const impression = (): unknown => {
    if (random() < 0.5) return validImpression();
    const base: Record<string, unknown> = random() < 0.5 ? { ...randomImpression(random) } : {};
    for (let i = int(4); i > 0; i--) base[pick(FIELDS)] = random() < 0.5 ? text() : value(1);
    if (random() < 0.5) {
      const ctx: Record<string, unknown> = random() < 0.5 ? { ...(base.context as object) } : {};
      for (let i = int(4); i > 0; i--) ctx[pick(CONTEXT)] = random() < 0.7 ? scalar() : value(2);
      base.context = random() < 0.9 ? ctx : value(1);
    }
    if (random() < 0.1) base[text()] = value(0);
    return random() < 0.95 ? base : value(0);
  };
  /** A body and the content type to send it with. */
  return (): { payload: string | Buffer; contentType: string | undefined } => {
    const roll = random();
    let payload: string | Buffer;
    if (roll < 0.6) {
      const make = random() < 0.5 ? validImpression : impression;
      const body: Record<string, unknown> = { impressions: Array.from({ length: int(15) }, make) };
      if (random() < 0.1) body[text()] = value(0);
      payload = JSON.stringify(random() < 0.9 ? body : value(0)) ?? 'null';
    } else if (roll < 0.8) {
      const valid = JSON.stringify({ impressions: Array.from({ length: 1 + int(5) }, impression) });
      // Truncate or corrupt a valid body.
      const at = int(valid.length);
      payload =
        random() < 0.5
          ? valid.slice(0, at)
          : `${valid.slice(0, at)}${pick(['"', '}', ']', ',', '\\', '\u0000', 'NaN'])}${valid.slice(at)}`;
    } else if (roll < 0.9) {
      payload = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    } else {
      payload = JSON.stringify(value(0)) ?? '';
    }
    const contentType = pick([
      'application/json',
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'text/plain',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      undefined,
    ]);
    return { payload, contentType };
  };
}

describe('fuzz: thousands of random bodies to POST /predict', () => {
  let app: App;
  beforeAll(async () => {
    app = await buildApp({ holder: loadedHolder(), maxBatchSize: 10, bodyLimitBytes: 64 * 1024 });
  });
  afterAll(() => app.close());

  it('never answers 5xx, answers every well-typed body with one finite CTR per impression, and stays healthy', async () => {
    const next = fuzzer(20261126);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const { payload, contentType } = next();
      const res = await app.inject({
        method: 'POST',
        url: '/predict',
        headers: contentType ? { 'content-type': contentType } : {},
        payload,
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, `body #${i}: ${String(payload).slice(0, 200)} → ${res.body.slice(0, 300)}`).toBeLessThan(
        500,
      );
      if (res.statusCode === 200) {
        const body = res.json() as { predictions: { ctr: number }[] };
        const sent = JSON.parse(String(payload)) as { impressions: unknown[] };
        expect(body.predictions).toHaveLength(sent.impressions.length);
        for (const p of body.predictions) {
          expect(Number.isFinite(p.ctr)).toBe(true);
          expect(p.ctr).toBeGreaterThanOrEqual(0);
          expect(p.ctr).toBeLessThanOrEqual(1);
        }
      } else {
        const body = res.json() as { code: string; message: string };
        expect(body.code).toMatch(/^INFERENCE_/);
        expect(body.message.length).toBeGreaterThan(0);
      }
    }
    // The generator must exercise both paths, or the test proves nothing.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(200);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(800);
    expect(statuses.get(415) ?? 0).toBeGreaterThan(100);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const ok = await app.inject({ method: 'POST', url: '/predict', payload: { impressions: [{ ad_id: 'a' }] } });
    expect(ok.statusCode).toBe(200);
  });
});
