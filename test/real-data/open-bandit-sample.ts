import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FeatureSpecInput } from '@fallback-ctr/model';

const run = promisify(execFile);

/** The Open Bandit Dataset sample shipped in the obp wheel (CC BY 4.0, ZOZO Technologies). */
export const OBP_WHEEL = 'obp==0.4.1';
const MEMBERS = {
  random: 'obp/dataset/obd/random/all/all.csv',
  bts: 'obp/dataset/obd/bts/all/all.csv',
} as const;
export type OpenBanditPolicy = keyof typeof MEMBERS;

/** Where downloaded samples are kept between runs (FALLBACK_CTR_DATA_CACHE, else ~/.cache/fallback-ctr). */
export function dataCacheDir(): string {
  return process.env.FALLBACK_CTR_DATA_CACHE ?? join(homedir(), '.cache', 'fallback-ctr');
}

const EXTRACT = `
import sys, zipfile, glob
wheel = glob.glob(sys.argv[1] + '/obp-*.whl')[0]
with zipfile.ZipFile(wheel) as z:
    for name, member in zip(sys.argv[3::2], sys.argv[4::2]):
        with z.open(member) as src, open(sys.argv[2] + '/' + name + '.csv', 'wb') as dst:
            dst.write(src.read())
`;

/**
 * Paths of the two 10k-row samples (uniform-random and Bernoulli-Thompson-sampling logging
 * policies), fetched once from PyPI with pip (the only network the tests reach) and cached.
 * Concurrent callers each download into their own temporary folder; the first rename wins.
 */
export async function openBanditSample(): Promise<Record<OpenBanditPolicy, string>> {
  const dir = join(dataCacheDir(), 'obp-0.4.1');
  const paths = { random: join(dir, 'random.csv'), bts: join(dir, 'bts.csv') };
  if (existsSync(paths.random) && existsSync(paths.bts)) return paths;
  await mkdir(dataCacheDir(), { recursive: true });
  const work = await mkdtemp(join(dataCacheDir(), 'obp-download-'));
  try {
    const python = process.env.FALLBACK_CTR_PYTHON ?? 'python3';
    await run(
      python,
      ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version', '3.10', OBP_WHEEL, '-d', work],
      { maxBuffer: 1 << 22 },
    );
    const out = join(work, 'out');
    await mkdir(out);
    await run(python, ['-c', EXTRACT, work, out, ...Object.entries(MEMBERS).flat()]);
    await rename(out, dir).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(paths.random)) throw error; // another caller won the race: theirs is as good
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return paths;
}

/**
 * Import mapping of the samples: no id column (ids `<prefix>:<line>`), a click flag on the row,
 * the recommended item as the ad and its position as the slot; the logging policy's propensity
 * score is dropped (it describes the policy, not the user); the rest goes to context.
 */
export function openBanditMapping(policy: OpenBanditPolicy) {
  return {
    idPrefix: `obd-${policy}`,
    timestampColumn: 'timestamp',
    labelColumn: 'click',
    columns: { ad_id: 'item_id', slot_id: 'position' },
    ignore: ['_c0', 'propensity_score'],
  };
}

/**
 * A feature spec naming the sample's fields: the item, its position and their cross. The four
 * hashed user features are left out: on this sample they predict the holdout worse than the base
 * rate (scikit-learn, one-hot, best C: holdout AUC 0.36 with them, 0.56 without).
 */
export const openBanditFeatureSpec: FeatureSpecInput = {
  version: 1,
  hashBits: 16,
  fields: [
    { name: 'ad_id', source: 'column', kind: 'categorical' },
    { name: 'slot_id', source: 'column', kind: 'categorical' },
  ],
  crosses: [{ fields: ['ad_id', 'slot_id'] }],
};
