import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '../../../../test/support/browser.js';
import { analyzeFeatures } from '../../src/analyze/analyze-features.js';
import type { FeatureReport } from '../../src/analyze/feature-report.js';
import { renderHtml } from '../../src/analyze/render-html.js';
import { renderSummary } from '../../src/analyze/render-summary.js';
import { addIpField, IP_FIELD, specWithNoise, syntheticSplit, TRAINER_FTRL, withIpField } from './synthetic-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror="document.title=1">';

let report: FeatureReport;
let dir: string;

beforeAll(async () => {
  // A sample large enough for fields to earn their keep measurably, so the page shows advice worth reading.
  const { train, holdout } = syntheticSplit({ days: 2, perDay: 40_000, holdoutFraction: 0.25, seed: 7 });
  // A value that must come out as text, never as markup.
  train[0]!.impression.os = HOSTILE;
  addIpField(train);
  addIpField(holdout, 12);
  report = await analyzeFeatures({
    train,
    holdout,
    spec: withIpField({ ...specWithNoise, hashBits: 16 }),
    training: TRAINER_FTRL,
    options: {
      sampleRows: 60_000,
      holdoutRows: 20_000,
      candidatePairs: 3,
      topValues: 40,
      timingImpressions: 100,
      timingRounds: 3,
    },
  });
  dir = await mkdtemp(join(tmpdir(), 'fctr-analyze-html-'));
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('renderHtml', () => {
  it('is one self-contained document: no scripts, no external URLs, a CSP that forbids loading any', () => {
    const html = renderHtml(report);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|<link|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain('&lt;img src=x onerror=&quot;document.title=1&quot;&gt;');
  });

  it('has a terminal summary with one line per recommendation, the ID-like fields and the combined verdict', () => {
    const text = renderSummary(report, 100);
    expect(text).toContain(`holdout NE ${report.summary.fullNe.toFixed(4)}`);
    for (const r of report.recommendations) expect(text).toContain(r.name);
    expect(text).toMatch(new RegExp(`^ID-like fields: ${IP_FIELD} \\(\\d+% distinct\\)`, 'm'));
    expect(text).toContain(report.allRecommendationsApplied.verdictReason);
  });

  it('says so, in the page and the summary, when all changes together are withheld', () => {
    const withheld: FeatureReport = {
      ...report,
      allRecommendationsApplied: {
        ...report.allRecommendationsApplied,
        verdict: 'withheld',
        verdictReason: 'made together, the 3 changes make the model worse',
      },
    };
    const html = renderHtml(withheld);
    expect(html).toMatch(
      /<p class="note withheld" id="all-applied"><b>All drops and adds together<\/b>[^<]*<b>not recommended<\/b>/,
    );
    expect(renderSummary(withheld)).toContain('not recommended — made together, the 3 changes make the model worse');
  });
});

describe('the report in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;
  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), 'fctr-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('renders without errors or outside requests, with every chart and table in the DOM', async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, renderHtml(report), 'utf8');
    const url = pathToFileURL(file).href;
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => requests.push(r.url()));
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.ok()).toBe(true);

    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    expect(await page.title()).toContain('Feature insight');

    const charts = await page.$$eval('svg[data-chart]', (els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return {
          id: e.getAttribute('data-chart'),
          w: r.width,
          h: r.height,
          shapes: e.querySelectorAll('rect, circle, line').length,
        };
      }),
    );
    const ids = charts.map((c) => c.id);
    for (const id of ['tradeoff', 'field-ablation', 'field-alone', 'cross-gain', 'serving-cost'])
      expect(ids).toContain(id);
    for (const f of report.fields) expect(ids).toContain(`top-values-${f.name}`);
    for (const c of charts.filter((x) => !x.id?.startsWith('top-values-'))) {
      expect(c.w, c.id ?? '').toBeGreaterThan(100);
      expect(c.h, c.id ?? '').toBeGreaterThan(100);
      expect(c.shapes, c.id ?? '').toBeGreaterThan(5);
    }
    const rows = async (id: string) => page.$$eval(`table#${id} tbody tr`, (trs) => trs.length);
    expect(await rows('recommendations')).toBe(report.recommendations.length);
    expect(await rows('fields')).toBe(report.fields.length);
    expect(await rows('crosses')).toBe(report.crosses.length);
    expect(await rows('screened-pairs')).toBe(Math.min(30, report.screenedPairs.length));
    // The hostile value is text in the os table, not an element.
    expect(await page.$$eval('img', (imgs) => imgs.length)).toBe(0);
    const osCells = await page.$$eval('table#top-values-table-os td code', (cells) => cells.map((c) => c.textContent));
    expect(osCells).toContain(HOSTILE);

    // The ID-like field is flagged where a reader looks: beside its name, and above the tables.
    expect(await page.textContent(`table#fields tr:has(code:text-is("${IP_FIELD}")) .badge.idlike`)).toBe('ID-like');
    expect(await page.textContent('#id-like')).toContain(`${IP_FIELD} (`);
    const verdict = await page.textContent('#all-applied');
    expect(verdict).toContain(report.allRecommendationsApplied.verdictReason);
    await page.setViewportSize({ width: 1280, height: 1500 });
    await screenshot(page, 'feature-insight-report');
    const shot = await page.screenshot({ fullPage: true, path: join(dir, 'report.png') });
    expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(shot.length).toBeGreaterThan(50_000);
    await page.close();
  }, 60_000);
});
