import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import { resolveSchema, withClient } from '../connection.js';
import { copyLines } from '../copy-text.js';
import { ClicklogError } from '../errors.js';
import { migrate } from '../migrate.js';
import { writeError } from '../pg-error.js';
import type { ClicklogTarget } from '../target.js';
import { clickLine, clicksCopySql, impressionLine, impressionsCopySql, truthCopySql } from '../write-log.js';
import type { SyntheticTrafficOptions, SyntheticTrafficOptionsInput } from './options.js';
import { parseTrafficOptions, startOfTraffic, syntheticRows } from './synthetic-impressions.js';

export interface GenerateTrafficOptions extends ClicklogTarget, SyntheticTrafficOptionsInput {
  /** Also write the true click probabilities into the `truth` table (default true). */
  writeTruth?: boolean;
  /** Empty the log tables of the schema first (default false: append). */
  replace?: boolean;
  logger?: Logger;
}

export interface GenerateTrafficResult {
  schema: string;
  impressions: number;
  clicks: number;
  /** Mean true click probability. */
  meanTrueCtr: number;
  /** Clicks / impressions (clicks at any delay). */
  observedCtr: number;
  /** First day (UTC midnight) and the end of the last day. */
  from: Date;
  to: Date;
  elapsedMs: number;
  /** Wall time of each COPY pass (generation included) and of the commit. */
  phasesMs: { impressions: number; clicks: number; truth: number; commit: number };
}

interface Tally {
  impressions: number;
  clicks: number;
  sumTrueCtr: number;
}

function* impressionLines(options: SyntheticTrafficOptions, start: Date, tally: Tally): Generator<string> {
  for (const row of syntheticRows(options, start)) {
    tally.impressions++;
    tally.sumTrueCtr += row.trueCtr;
    if (!Number.isNaN(row.clickedAtMs)) tally.clicks++;
    yield impressionLine(row.id, row.servedAtMs, row.impression);
  }
}

function* clickLines(options: SyntheticTrafficOptions, start: Date): Generator<string> {
  for (const row of syntheticRows(options, start)) {
    if (!Number.isNaN(row.clickedAtMs)) yield clickLine(row.id, row.clickedAtMs);
  }
}

function* truthLines(options: SyntheticTrafficOptions, start: Date): Generator<string> {
  for (const row of syntheticRows(options, start)) yield `${row.id}\t${row.trueCtr}\n`;
}

/**
 * Generates synthetic traffic and writes impressions, clicks (and truth) with COPY in ONE
 * transaction, so readers never see half a run. Migrates the schema first when needed. Each table
 * is filled by its own pass over the (deterministic) generator: memory stays flat at any size.
 */
export async function generateTraffic(options: GenerateTrafficOptions): Promise<GenerateTrafficResult> {
  const schema = resolveSchema(options);
  const settings = parseTrafficOptions(options);
  const start = startOfTraffic(settings);
  const logger = (options.logger ?? silentLogger()).child({ schema, seed: settings.seed });
  const began = performance.now();
  await migrate({ db: options.db, schema, logger });
  const tally: Tally = { impressions: 0, clicks: 0, sumTrueCtr: 0 };
  const phasesMs = { impressions: 0, clicks: 0, truth: 0, commit: 0 };
  const timed = async (phase: keyof typeof phasesMs, fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    phasesMs[phase] = Math.round(performance.now() - t);
  };
  await withClient(options.db, async (client) => {
    await client.query('BEGIN');
    try {
      if (options.replace) await client.query(`TRUNCATE ${schema}.impressions, ${schema}.clicks, ${schema}.truth`);
      await timed('impressions', () =>
        copyLines(client, impressionsCopySql(schema), impressionLines(settings, start, tally)),
      );
      await timed('clicks', () => copyLines(client, clicksCopySql(schema), clickLines(settings, start)));
      if (options.writeTruth ?? true) {
        await timed('truth', () => copyLines(client, truthCopySql(schema), truthLines(settings, start)));
      }
      await timed('commit', () => client.query('COMMIT'));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof ClicklogError) throw error;
      throw writeError(error, schema, 'synthetic traffic');
    }
  });
  const result: GenerateTrafficResult = {
    schema,
    impressions: tally.impressions,
    clicks: tally.clicks,
    meanTrueCtr: tally.impressions > 0 ? tally.sumTrueCtr / tally.impressions : 0,
    observedCtr: tally.impressions > 0 ? tally.clicks / tally.impressions : 0,
    from: start,
    to: new Date(start.getTime() + settings.days * 86_400_000),
    elapsedMs: Math.round(performance.now() - began),
    phasesMs,
  };
  logger.info({ ...result }, 'synthetic traffic written');
  return result;
}
