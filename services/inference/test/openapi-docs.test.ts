import { describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../../../test/support/browser.js';
import { buildApp, createModelHolder } from '../src/index.js';
import { EXAMPLE_ERRORS, EXAMPLE_PREDICT_REQUEST } from '../src/openapi-docs.js';
import { loadedHolder } from './fixtures.js';

type Doc = {
  info: { description: string };
  components?: { securitySchemes?: unknown };
  paths: Record<string, Record<string, { responses: Record<string, { description: string; content?: unknown }> }>>;
};

const predict = (app: Awaited<ReturnType<typeof buildApp>>, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/predict', payload: payload as string, headers });

describe('the documented examples are what the server answers', () => {
  it('the request example scores, and each error example is the real answer to its request', async () => {
    const app = await buildApp({ holder: loadedHolder() });
    const unready = await buildApp({ holder: createModelHolder() });
    const guarded = await buildApp({ holder: loadedHolder(), apiTokens: ['t'] });
    try {
      const ok = await predict(app, EXAMPLE_PREDICT_REQUEST);
      expect(ok.statusCode).toBe(200);
      expect(ok.json().predictions.map((p: { id: string }) => p.id)).toEqual(['imp-1', 'imp-2']);
      expect((await predict(app, EXAMPLE_ERRORS.badField.request)).json()).toEqual(EXAMPLE_ERRORS.badField.response);
      expect((await predict(unready, EXAMPLE_PREDICT_REQUEST)).json()).toEqual(EXAMPLE_ERRORS.notReady);
      expect((await predict(guarded, EXAMPLE_PREDICT_REQUEST)).json()).toEqual(EXAMPLE_ERRORS.unauthorized);
      expect((await predict(app, 'hello', { 'content-type': 'text/plain' })).json()).toEqual(EXAMPLE_ERRORS.wrongType);
      const huge = JSON.stringify({ impressions: [{ id: 'x'.repeat(2_000_000) }] });
      expect((await predict(app, huge, { 'content-type': 'application/json' })).json()).toEqual(
        EXAMPLE_ERRORS.tooLarge,
      );
    } finally {
      await Promise.all([app.close(), unready.close(), guarded.close()]);
    }
  });
});

describe('the OpenAPI document', () => {
  it('names every response, carries real examples, and has no bearer scheme without tokens', async () => {
    const app = await buildApp({ holder: loadedHolder() });
    try {
      const doc = (await app.inject('/docs/json')).json() as Doc;
      expect(doc.components?.securitySchemes).toBeUndefined();
      const text = JSON.stringify(doc);
      expect(text).not.toContain('Default Response');
      expect(text).not.toContain('additionalProp1');
      const responses = doc.paths['/predict']?.post?.responses ?? {};
      expect(responses['400']?.description).toMatch(/issues/);
      expect(responses['401']).toBeUndefined();
      expect(JSON.stringify(responses['400'])).toContain('/impressions/0/device_type');
      expect(JSON.stringify(doc.paths['/predict'])).toContain('ad-1042');
      // The loaded model's fields and context keys, from its artifact.
      expect(doc.info.description).toContain('What the serving model reads: test-model version 7');
      expect(doc.info.description).toContain('`context.hour_of_day`');
      expect(doc.info.description).toContain('`ad_id`');
    } finally {
      await app.close();
    }
    const guarded = await buildApp({ holder: loadedHolder(), apiTokens: ['t'] });
    try {
      const doc = (await guarded.inject('/docs/json')).json() as Doc;
      expect(doc.components?.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
      expect(doc.paths['/predict']?.post?.responses['401']?.description).toBe('Missing or wrong bearer token');
    } finally {
      await guarded.close();
    }
  });

  it('reads well in a browser: the model section, named responses, no Authorize button', {
    timeout: 180_000,
  }, async () => {
    const app = await buildApp({ holder: loadedHolder() });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      await page.goto(`${address}/docs`, { waitUntil: 'domcontentloaded', timeout: 120_000 });
      await page.getByText('What the serving model reads').first().waitFor({ timeout: 120_000 });
      await page.getByText('/predict', { exact: true }).first().click();
      await page.getByText('One CTR per impression, in request order').first().waitFor({ timeout: 60_000 });
      expect(await page.getByRole('button', { name: /Authorize/ }).count()).toBe(0);
      expect(await page.getByText('Default Response').count()).toBe(0);
      await screenshot(page, 'inference-docs', { fullPage: true });
    } finally {
      await browser.close();
      await app.close();
    }
  });
});
