import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '@fallback-ctr/runtime';
import { freePort } from './free-port.js';

export interface EmbeddedPostgres {
  /** A postgres:// URL that the ordinary `pg` driver connects to. */
  url: string;
  stop(): Promise<void>;
}

/** The installed PGlite's version: an empty data directory made by one version is only reused by it. */
function pgliteVersion(root: string): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(root, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A new, empty database: initdb's result, as the first start left it in `cacheDir` (the same bytes
 * PGlite would make again, without running initdb in WebAssembly each time), else made now and kept there.
 */
async function emptyDatabase(root: string, cacheDir: string, logger: Logger): Promise<PGlite> {
  const version = pgliteVersion(root);
  if (version === undefined) return PGlite.create();
  const cached = join(cacheDir, `pglite-${version}-empty.tar.gz`);
  if (existsSync(cached)) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([readFileSync(cached)]) });
    } catch (error) {
      logger.warn({ err: error, cached }, 'the cached empty PGlite database did not load: making a new one');
    }
  }
  const db = await PGlite.create();
  const dump = await db.dumpDataDir('gzip');
  try {
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, cached);
  } catch (error) {
    logger.warn({ err: error, cached }, 'could not keep the empty PGlite database for the next start');
  }
  return db;
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), in this process, behind a wire-protocol socket server on
 * loopback: the trainer and the click-log writer reach it through the same `pg` code path as a real
 * server. In-memory, so every demo starts from an empty database.
 */
export async function startEmbeddedPostgres(options: {
  root: string;
  cacheDir: string;
  logger: Logger;
}): Promise<EmbeddedPostgres> {
  const db = await emptyDatabase(options.root, options.cacheDir, options.logger);
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 16 });
  await server.start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  options.logger.info({ url }, 'embedded PostgreSQL (PGlite) is listening');
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
