#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createLogger, errorCode, errorMessage } from '@fallback-ctr/runtime';
import pg from 'pg';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { generateTraffic } from './generator/generate-traffic.js';
import { SYNTHETIC_FIELDS } from './generator/options.js';
import { importUsage, parseImportArgs } from './import/import-command.js';
import { importLog } from './import/import-log.js';
import type { ImportMappingInput } from './import/import-mapping.js';
import { terminalProgress } from './import/import-progress.js';
import { dropSchema, migrate } from './migrate.js';
import { DEFAULT_SCHEMA } from './target.js';

const USAGE = `Usage: clicklog <command> [options]

Commands:
  migrate     create the schema and apply pending migrations
  import      load impressions (and clicks) from a CSV, JSONL or Parquet file (import --help)
  generate    write synthetic impressions, clicks and truth (deterministic from --seed)
  drop        drop the schema and everything in it

Common options:
  --database-url <url>   Postgres connection string (default: $DATABASE_URL)
  --schema <name>        Postgres schema (default: ${DEFAULT_SCHEMA})
  -h, --help             show this help`;

const GENERATE_USAGE = `Usage: clicklog generate [options]

Writes synthetic traffic with COPY in one transaction and prints a JSON summary.

Options:
  --database-url <url>       Postgres connection string (default: $DATABASE_URL)
  --schema <name>            Postgres schema (default: ${DEFAULT_SCHEMA})
  --seed <int|string>        PRNG seed; same seed and options, same rows (default: 1)
  --days <n>                 number of days (default: 7)
  --per-day <n>              impressions per day (default: 100000)
  --first-day <n>            write days [n, n + days) of the same traffic, to append to an
                             earlier call's days (default: 0)
  --start <YYYY-MM-DD>       day 0, UTC (default: <first-day + days> days before today)
  --until-now                the log as it stands now: the last day is today, up to this
                             minute (so a holdout ending now has traffic at any time of day)
  --base-ctr <p>             mean true CTR of the first day, 0.005..0.03 (default: 0.015)
  --drift <x>                day-to-day random walk of the true effects, 0 = none (default: 0)
  --new-ads-per-day <n>      new ads (some with new campaigns and advertisers) each day from day 1;
                             5 % of each day's traffic goes to the newest ones (default: 0)
  --degrade <mode>           shuffled-labels | broken-feature (default: none)
  --broken-field <field>     field for broken-feature: ${SYNTHETIC_FIELDS.join(', ')}
  --broken-kind <kind>       scrambled | constant | missing (default: scrambled)
  --degrade-from-day <n>     first degraded day, 0-based (default: 0)
  --ads <n> --slots <n>      cardinalities (defaults: 3000 ads, 2000 slots)
  --no-truth                 do not write the truth table
  --replace                  empty the log tables first (default: append)
  -h, --help                 show this help`;

function fail(message: string): never {
  console.error(`clicklog: ${message}`);
  process.exit(2);
}

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

async function runImport(argv: string[]): Promise<void> {
  if (argv.includes('-h') || argv.includes('--help')) return void console.log(importUsage(DEFAULT_SCHEMA));
  const command = await parseImportArgs(argv);
  const url = command.databaseUrl ?? process.env.DATABASE_URL;
  if (!url) fail('no database: pass --database-url or set DATABASE_URL');
  const schema = command.schema ?? DEFAULT_SCHEMA;
  const logger = createLogger({ name: 'clicklog', destination: process.stderr, level: 'warn' });
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const progress = terminalProgress(process.stderr);
  try {
    if (command.migrate) await migrate({ db: pool, schema, logger });
    const result = await importLog({
      db: pool,
      schema,
      file: command.file,
      mapping: command.mapping as ImportMappingInput, // validated by importLog's zod schema
      onProgress: (p) => progress.update(p),
    });
    progress.done();
    for (const r of result.rejects) console.error(`clicklog: bad row ${r.file}:${r.line}: ${r.reason}`);
    if (result.rejectFile) console.error(`clicklog: all ${result.badRows} bad rows are in ${result.rejectFile}`);
    console.log(JSON.stringify(result));
  } finally {
    progress.done();
    await pool.end();
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'import') return runImport(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      'database-url': { type: 'string' },
      schema: { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      'first-day': { type: 'string' },
      'per-day': { type: 'string' },
      start: { type: 'string' },
      'base-ctr': { type: 'string' },
      drift: { type: 'string' },
      'new-ads-per-day': { type: 'string' },
      degrade: { type: 'string' },
      'broken-field': { type: 'string' },
      'broken-kind': { type: 'string' },
      'degrade-from-day': { type: 'string' },
      ads: { type: 'string' },
      slots: { type: 'string' },
      'no-truth': { type: 'boolean' },
      replace: { type: 'boolean' },
      'until-now': { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (command === 'generate' && values.help) return void console.log(GENERATE_USAGE);
  if (values.help || command === undefined) return void console.log(USAGE);
  if (!['migrate', 'import', 'generate', 'drop'].includes(command)) fail(`unknown command "${command}"\n\n${USAGE}`);

  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) fail('no database: pass --database-url or set DATABASE_URL');
  const schema = values.schema ?? DEFAULT_SCHEMA;
  const logger = createLogger({ name: 'clicklog', destination: process.stderr });
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    if (command === 'migrate') {
      console.log(JSON.stringify(await migrate({ db: pool, schema, logger })));
    } else if (command === 'drop') {
      await dropSchema({ db: pool, schema });
      console.log(JSON.stringify({ schema, dropped: true }));
    } else {
      const seedText = values.seed ?? '1';
      const seed = /^-?\d+$/.test(seedText) ? Number(seedText) : seedText;
      const fromDay = num('degrade-from-day', values['degrade-from-day']) ?? 0;
      let degrade: Parameters<typeof generateTraffic>[0]['degrade'];
      if (values.degrade === 'shuffled-labels') degrade = { mode: 'shuffled-labels', fromDay };
      else if (values.degrade === 'broken-feature') {
        const field = values['broken-field'];
        if (!field) fail('--degrade broken-feature needs --broken-field');
        degrade = {
          mode: 'broken-feature',
          field: field as (typeof SYNTHETIC_FIELDS)[number],
          kind: (values['broken-kind'] ?? 'scrambled') as 'scrambled',
          fromDay,
        };
      } else if (values.degrade !== undefined) fail(`--degrade must be shuffled-labels or broken-feature`);
      const start = values.start === undefined ? undefined : new Date(`${values.start}T00:00:00Z`);
      const ads = num('ads', values.ads);
      const slots = num('slots', values.slots);
      const result = await generateTraffic({
        db: pool,
        schema,
        seed,
        days: num('days', values.days),
        firstDay: num('first-day', values['first-day']),
        impressionsPerDay: num('per-day', values['per-day']),
        start,
        until: values['until-now'] ? new Date() : undefined,
        baseCtr: num('base-ctr', values['base-ctr']),
        drift: num('drift', values.drift),
        churn: { adsPerDay: num('new-ads-per-day', values['new-ads-per-day']) ?? 0 },
        degrade,
        cardinality: ads !== undefined || slots !== undefined ? { ads, slots } : undefined,
        writeTruth: !values['no-truth'],
        replace: values.replace === true,
        logger,
      });
      console.log(JSON.stringify(result));
    }
  } finally {
    await pool.end();
  }
}

/** Errors about what was asked (options, the file, its columns): exit 2 like a bad flag. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  ClicklogErrorCode.INVALID_OPTIONS,
  ClicklogErrorCode.INVALID_WINDOW,
  ClicklogErrorCode.IMPORT_FILE_UNREADABLE,
  ClicklogErrorCode.IMPORT_COLUMN_MISSING,
]);

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = errorCode(error);
  // node:util parseArgs' own errors (an unknown option, a missing value) are usage errors too.
  const usage = code !== undefined && (USAGE_CODES.has(code) || code.startsWith('ERR_PARSE_ARGS_'));
  console.error(`clicklog: ${error instanceof ClicklogError ? `${error.code}: ` : ''}${errorMessage(error)}`);
  // Anything else (PostgreSQL unreachable, a failed write) is an error, not a usage mistake.
  process.exit(usage ? 2 : 1);
});
