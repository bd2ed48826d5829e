import type { Queryable } from './connection.js';
import { type CopyText, decodeCopyField } from './copy-text-decoder.js';

/** The target is `schema.table`, or a bare name: the import's staging tables are TEMP tables (pg_temp). */
const COPY_SQL = /^COPY\s+((?:[a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*)\s*\(([^)]+)\)\s+FROM\s+STDIN$/i;
/** Bind parameters per statement stay well below the protocol's limit of 65,535. */
const MAX_PARAMETERS = 30_000;

async function* splitLines(lines: Iterable<CopyText> | AsyncIterable<CopyText>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of lines) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let newline = rest.indexOf('\n');
    while (newline !== -1) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
      newline = rest.indexOf('\n');
    }
  }
  if (rest.length > 0) yield rest;
}

/**
 * The same rows as `COPY … FROM STDIN` would load, sent as multi-row INSERTs: for servers that cannot
 * take COPY FROM STDIN over the wire protocol (PGlite behind pglite-socket, the demo's embedded
 * database). Input may arrive as whole lines or as arbitrary chunks of COPY text.
 */
export async function insertLines(
  client: Queryable,
  copySql: string,
  lines: Iterable<CopyText> | AsyncIterable<CopyText>,
): Promise<number> {
  const match = COPY_SQL.exec(copySql.trim());
  if (!match?.[1] || !match[2]) throw new Error(`not a COPY … FROM STDIN statement: ${copySql}`);
  const table = match[1];
  const columns = match[2].split(',').map((c) => c.trim());
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
  let values: (string | null)[] = [];
  let rows = 0;
  let inserted = 0;
  const flush = async () => {
    if (rows === 0) return;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      tuples.push(`(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    }
    await client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    inserted += rows;
    values = [];
    rows = 0;
  };
  for await (const line of splitLines(lines)) {
    if (line.length === 0) continue;
    const fields = line.split('\t');
    if (fields.length !== columns.length) {
      throw new Error(`COPY line has ${fields.length} fields, ${table} expects ${columns.length}`);
    }
    for (const field of fields) values.push(decodeCopyField(field));
    rows++;
    if (rows >= rowsPerStatement) await flush();
  }
  await flush();
  return inserted;
}
