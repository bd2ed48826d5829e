import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from '@fallback-ctr/runtime';
import { freePort } from './free-port.js';

export interface EmbeddedPostgres {
  /** A postgres:// URL that the ordinary `pg` driver connects to. */
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), in this process, behind a wire-protocol socket server on
 * loopback: the trainer and the click-log writer reach it through the same `pg` code path as a real
 * server. In-memory, so every demo starts from an empty database.
 */
export async function startEmbeddedPostgres(logger: Logger): Promise<EmbeddedPostgres> {
  const db = await PGlite.create();
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 16 });
  await server.start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  logger.info({ url }, 'embedded PostgreSQL (PGlite) is listening');
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
