import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { errorMessage } from '@fallback-ctr/runtime';
import { parse as parseYaml } from 'yaml';
import { ClicklogError, ClicklogErrorCode } from '../errors.js';
import { IMPORT_MAPPING_KEYS, ImportMappingSchema } from './import-mapping.js';

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const MULTIPLE = new Set<string>(['ignore', 'columns']);

/** Flag name of each mapping key (`columns` is the repeatable `--column fixed=source`). */
function flagOf(key: string): string {
  return key === 'columns' ? 'column' : kebab(key);
}

export function importUsage(defaultSchema: string): string {
  const shape = ImportMappingSchema.shape;
  const lines = IMPORT_MAPPING_KEYS.map((key) => {
    const flag = `--${flagOf(key)}${key === 'columns' ? ' <fixed=source>' : ' <value>'}`;
    return `  ${flag.padEnd(34)}${shape[key].description ?? ''}`;
  });
  return `Usage: clicklog import <file> [options]

Imports impressions (and clicks) from a CSV, JSONL or Parquet file in one transaction; prints a JSON
summary. Ids already in the table are skipped and counted, so a re-import is safe. The mapping comes
from flags and/or --mapping <file.json|file.yaml> (same keys, camelCase: timestampColumn, columns: {ad_id: item_id}, …);
a flag wins over the file. Source columns not mapped or ignored go to the impression's context.

Options:
  --mapping <file>                  mapping file (JSON or YAML)
${lines.join('\n')}
  --no-migrate                      do not create/upgrade the schema first
  --database-url <url>              Postgres connection string (default: $DATABASE_URL)
  --schema <name>                   Postgres schema (default: ${defaultSchema})
  -h, --help                        show this help`;
}

export interface ImportCommand {
  file: string;
  mapping: Record<string, unknown>;
  migrate: boolean;
}

async function readMappingFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ClicklogError(
      ClicklogErrorCode.INVALID_OPTIONS,
      `Cannot read the mapping file ${path}: ${errorMessage(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ClicklogError(
      ClicklogErrorCode.INVALID_OPTIONS,
      `The mapping file ${path} is not valid JSON/YAML: ${errorMessage(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ClicklogError(
      ClicklogErrorCode.INVALID_OPTIONS,
      `The mapping file ${path} must hold an object of mapping keys`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** Parses `import` arguments (after the command word) into a file and a raw mapping (validated later). */
export async function parseImportArgs(
  argv: string[],
): Promise<ImportCommand & { databaseUrl?: string; schema?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    mapping: { type: 'string' },
    'no-migrate': { type: 'boolean' },
    'database-url': { type: 'string' },
    schema: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const key of IMPORT_MAPPING_KEYS) options[flagOf(key)] = { type: 'string', multiple: MULTIPLE.has(key) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options, strict: true });
  } catch (error) {
    throw new ClicklogError(ClicklogErrorCode.INVALID_OPTIONS, errorMessage(error));
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (file === undefined)
    throw new ClicklogError(ClicklogErrorCode.INVALID_OPTIONS, 'import needs a file: clicklog import <file> [options]');
  const mapping: Record<string, unknown> =
    typeof values.mapping === 'string' ? await readMappingFile(values.mapping) : {};
  for (const key of IMPORT_MAPPING_KEYS) {
    const value = values[flagOf(key)];
    if (value === undefined) continue;
    if (key === 'columns') {
      const columns: Record<string, string> = { ...((mapping.columns as Record<string, string> | undefined) ?? {}) };
      for (const pair of value as string[]) {
        const eq = pair.indexOf('=');
        if (eq <= 0)
          throw new ClicklogError(
            ClicklogErrorCode.INVALID_OPTIONS,
            `--column takes fixed=source (e.g. ad_id=item_id), got "${pair}"`,
          );
        columns[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      mapping.columns = columns;
    } else if (key === 'ignore') {
      mapping.ignore = (value as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
    } else if (key === 'clickDelaySeconds') {
      mapping[key] = Number(value);
    } else {
      mapping[key] = value;
    }
  }
  return {
    file,
    mapping,
    migrate: values['no-migrate'] !== true,
    ...(typeof values['database-url'] === 'string' ? { databaseUrl: values['database-url'] } : {}),
    ...(typeof values.schema === 'string' ? { schema: values.schema } : {}),
  };
}
