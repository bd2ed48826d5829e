import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FeatureSpecInput } from '@fallback-ctr/model';
import { pypiSample } from './pypi-sample-cache.js';
import type { SampleWindow } from './real-sample-env.js';

/**
 * Real Criteo display-ad rows shipped in the source distribution of xlearn on PyPI (the package is
 * Apache-2.0; it states no separate licence for the rows, which come from Criteo's Kaggle Display
 * Advertising Challenge data). Its demo holds 200 + 200 rows already encoded by xlearn's authors in
 * libffm form (`label field:feature:value`): 18 fields whose values are feature numbers.
 */
export const XLEARN_SDIST = 'xlearn==0.40a1';
const FIELDS = 18;

/**
 * The rows carry no time. They get one by row order as the files were written, small_train.txt
 * first and small_test.txt after it: one row every 6 minutes from CRITEO_START, so the training file
 * fills the first 20 hours and the test file the 20 hours after (the holdout). A documented deviation
 * from a time split: whether xlearn's rows keep Criteo's chronological order is not said.
 */
export const CRITEO_START = '2014-01-01T00:00:00.000Z';
const ROW_SPACING_MS = 6 * 60_000;
export const CRITEO_WINDOW: SampleWindow = {
  end: '2014-01-02T16:00:00.000Z',
  hours: 40,
  holdoutHours: 20,
};

/**
 * One libffm line as a CSV row: served_at, click, then f0…f17. A field with several features on the
 * line (fields 16 and 17 hold up to 11) keeps them as one categorical value, sorted and joined by
 * spaces; the feature values (0.3651, 0.5: xlearn's row normalisation) carry nothing and are dropped.
 */
export function libffmToCsvRow(line: string, servedAt: Date): string {
  const [label, ...tokens] = line.trim().split(/\s+/);
  if (label !== '0' && label !== '1') throw new Error(`not a libffm line (label ${label}): ${line.slice(0, 60)}`);
  const byField: string[][] = Array.from({ length: FIELDS }, () => []);
  for (const token of tokens) {
    const [field, feature] = token.split(':');
    const bag = byField[Number(field)];
    if (bag === undefined || feature === undefined) throw new Error(`bad libffm token ${token}`);
    bag.push(feature);
  }
  const values = byField.map((bag) => bag.sort((a, b) => Number(a) - Number(b)).join(' '));
  return [servedAt.toISOString(), label, ...values].join(',');
}

export function criteoCsv(trainLines: string[], testLines: string[]): string {
  const start = Date.parse(CRITEO_START);
  const header = ['served_at', 'click', ...Array.from({ length: FIELDS }, (_, i) => `f${i}`)].join(',');
  const rows = [...trainLines, ...testLines].map((line, i) =>
    libffmToCsvRow(line, new Date(start + i * ROW_SPACING_MS)),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/**
 * Path of the sample as a CSV (400 rows), written beside the two demo files of the sdist (4.9 MB),
 * which pip fetches once from PyPI; both are cached.
 */
export async function criteoSample(): Promise<string> {
  const files = await pypiSample({
    cacheName: 'xlearn-0.40a1',
    pipArgs: ['--no-binary', ':all:', XLEARN_SDIST],
    members: {
      'small_train.txt': 'xlearn-0.40a1/compile/demo/classification/criteo_ctr/small_train.txt',
      'small_test.txt': 'xlearn-0.40a1/compile/demo/classification/criteo_ctr/small_test.txt',
    },
  });
  const csv = join(dirname(files['small_train.txt']), 'criteo.csv');
  if (existsSync(csv)) return csv;
  const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const partial = `${csv}.${process.pid}.partial`;
  await writeFile(partial, criteoCsv(await lines(files['small_train.txt']), await lines(files['small_test.txt'])));
  await rename(partial, csv); // atomic: a concurrent caller sees the whole file or none
  return csv;
}

/** Import mapping: no id column (ids `criteo-xlearn:<line>`), the click flag on the row, every field to context. */
export const criteoMapping = {
  idPrefix: 'criteo-xlearn',
  timestampColumn: 'served_at',
  labelColumn: 'click',
};

/**
 * A feature spec naming the sample's fields: f1…f17 as categorical context fields. f0 is left out:
 * it is set on one row of 400 (where f1 is missing), under the trainer's 1 % coverage floor.
 */
export const criteoFeatureSpec: FeatureSpecInput = {
  version: 1,
  hashBits: 16,
  fields: Array.from({ length: FIELDS - 1 }, (_, i) => ({
    name: `f${i + 1}`,
    source: 'context' as const,
    kind: 'categorical' as const,
  })),
};
