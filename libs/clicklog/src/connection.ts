import { checkedSchemaName } from '@fallback-ctr/runtime';
import pg from 'pg';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { type ClicklogTarget, DEFAULT_SCHEMA } from './target.js';

export type Queryable = pg.Client | pg.PoolClient;

/** A connected client plus how to give it back (release to the pool, or end the own connection). */
export interface Lease {
  client: Queryable;
  /**
   * Called when the connection fails while leased (e.g. the server terminates it). Without a
   * listener such an 'error' event would crash the process; with it, the holder can fail its work.
   */
  onError(listener: (error: Error) => void): void;
  /** Pass `discard` to destroy a pooled connection instead of reusing it (e.g. after an aborted cursor). */
  done(discard?: boolean): Promise<void>;
}

export function resolveSchema(target: ClicklogTarget): string {
  return checkedSchemaName(
    target.schema,
    DEFAULT_SCHEMA,
    (message) => new ClicklogError(ClicklogErrorCode.INVALID_OPTIONS, message),
  );
}

export async function lease(db: pg.Pool | string): Promise<Lease> {
  const own = typeof db === 'string' ? new pg.Client({ connectionString: db }) : undefined;
  let client: Queryable;
  if (own) {
    await own.connect();
    client = own;
  } else {
    client = await (db as pg.Pool).connect();
  }
  const listeners: ((error: Error) => void)[] = [];
  let failed = false;
  const onClientError = (error: Error) => {
    failed = true;
    for (const listener of listeners) listener(error);
  };
  client.on('error', onClientError);
  return {
    client,
    onError: (listener) => listeners.push(listener),
    done: async (discard) => {
      client.off('error', onClientError);
      if (own) {
        await own.end().catch(() => undefined);
      } else {
        (client as pg.PoolClient).release(discard === true || failed);
      }
    },
  };
}

export async function withClient<T>(db: pg.Pool | string, fn: (client: Queryable) => Promise<T>): Promise<T> {
  const l = await lease(db);
  let discard = false;
  try {
    return await fn(l.client);
  } catch (error) {
    discard = true;
    throw error;
  } finally {
    await l.done(discard);
  }
}

/** Throws CLICKLOG_SCHEMA_MISSING naming the first absent table. */
export async function assertTables(client: Queryable, schema: string, tables: readonly string[]): Promise<void> {
  const { rows } = await client.query<{ name: string; oid: string | null }>(
    'SELECT t.name, to_regclass(quote_ident($1) || $2 || quote_ident(t.name))::text AS oid FROM unnest($3::text[]) AS t(name)',
    [schema, '.', tables],
  );
  const missing = rows.filter((r) => r.oid === null).map((r) => r.name);
  if (missing.length > 0) {
    throw new ClicklogError(
      ClicklogErrorCode.SCHEMA_MISSING,
      `Table${missing.length > 1 ? 's' : ''} ${missing.map((t) => `${schema}.${t}`).join(', ')} not found: run the clicklog migrations for schema "${schema}" first (migrate() or \`clicklog migrate --schema ${schema}\`)`,
    );
  }
}
