import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import { resolveSchema, withClient } from '../connection.js';
import { copyLines } from '../copy-text.js';
import { ClicklogError } from '../errors.js';
import { migrate } from '../migrate.js';
import { writeError } from '../pg-error.js';
import type { ClicklogTarget } from '../target.js';
import { clickLine, clicksCopySql, impressionLine, impressionsCopySql, truthCopySql } from '../write-log.js';
import type { SyntheticTrafficOptions, SyntheticTrafficOptionsInput } from './options.js';
import { parseTrafficOptions, type SyntheticRow, startOfTraffic, syntheticRows } from './synthetic-impressions.js';

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
  /** First day (UTC midnight) and the end of the last day (or `until`, when earlier). */
  from: Date;
  to: Date;
  elapsedMs: number;
  /** Wall time of each COPY (impressions includes the generation), the commit and ANALYZE. */
  phasesMs: { impressions: number; clicks: number; truth: number; commit: number; analyze: number };
}

interface Tally {
  impressions: number;
  clicks: number;
  sumTrueCtr: number;
}

const SPILL_CHARS = 1 << 16;

/** Lines written to a temporary file in 64 KiB chunks (synchronously: memory stays bounded). */
class SpillFile {
  private buffer = '';
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }
  write(line: string): void {
    this.buffer += line;
    if (this.buffer.length >= SPILL_CHARS) this.flush();
  }
  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * The COPY line of an untouched synthetic impression, built directly: every value comes from the
 * generator's own vocabularies (nothing to escape) and the context has a fixed shape, which makes
 * this ~2x cheaper than the general impressionLine (the generator's main CPU cost).
 */
function cleanImpressionLine(row: SyntheticRow): string {
  const i = row.impression;
  const c = i.context!;
  return `${row.id}\t${new Date(row.servedAtMs).toISOString()}\t${i.slot_id}\t${i.placement}\t${i.ad_id}\t${i.campaign_id}\t${i.advertiser_id}\t${i.device_type}\t${i.os}\t${i.country}\t{"hour_of_day":${c.hour_of_day},"user_age_days":${c.user_age_days},"page_views":${c.page_views},"site_category":"${c.site_category}"}\n`;
}

/**
 * One pass over the generator: impressions go straight into COPY; clicks and truth are spilled to
 * temporary files and copied afterwards (one connection, one transaction).
 */
function* impressionLines(
  options: SyntheticTrafficOptions,
  start: Date,
  tally: Tally,
  clicks: SpillFile,
  truth: SpillFile | undefined,
): Generator<string> {
  const line = options.degrade?.mode === 'broken-feature' ? undefined : cleanImpressionLine;
  const untilMs = options.until?.getTime() ?? Number.POSITIVE_INFINITY;
  for (const row of syntheticRows(options, start)) {
    if (row.servedAtMs >= untilMs) continue;
    tally.impressions++;
    tally.sumTrueCtr += row.trueCtr;
    if (!Number.isNaN(row.clickedAtMs) && row.clickedAtMs < untilMs) {
      tally.clicks++;
      clicks.write(clickLine(row.id, row.clickedAtMs));
    }
    truth?.write(`${row.id}\t${row.trueCtr}\n`);
    yield line ? line(row) : impressionLine(row.id, row.servedAtMs, row.impression);
  }
}

/**
 * Generates synthetic traffic and writes impressions, clicks (and truth) with COPY in ONE
 * transaction, so readers never see half a run. Migrates the schema first when needed. One pass
 * over the generator; clicks and truth wait in temporary files: memory stays flat at any size.
 */
export async function generateTraffic(options: GenerateTrafficOptions): Promise<GenerateTrafficResult> {
  const schema = resolveSchema(options);
  const settings = parseTrafficOptions(options);
  const start = startOfTraffic(settings);
  const logger = (options.logger ?? silentLogger()).child({ schema, seed: settings.seed });
  const began = performance.now();
  // Not the child: migrate binds the schema itself, and a line must not carry a key twice.
  await migrate({ db: options.db, schema, logger: options.logger });
  const tally: Tally = { impressions: 0, clicks: 0, sumTrueCtr: 0 };
  const phasesMs = { impressions: 0, clicks: 0, truth: 0, commit: 0, analyze: 0 };
  const timed = async (phase: keyof typeof phasesMs, fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    phasesMs[phase] = Math.round(performance.now() - t);
  };
  const writeTruth = options.writeTruth ?? true;
  const spillDir = await mkdtemp(join(tmpdir(), 'clicklog-generate-'));
  try {
    await copyAll();
  } finally {
    await rm(spillDir, { recursive: true, force: true });
  }
  async function copyAll(): Promise<void> {
    await withClient(options.db, async (client) => {
      await client.query('BEGIN');
      try {
        if (options.replace) await client.query(`TRUNCATE ${schema}.impressions, ${schema}.clicks, ${schema}.truth`);
        const clicks = new SpillFile(join(spillDir, 'clicks.copy'));
        const truth = writeTruth ? new SpillFile(join(spillDir, 'truth.copy')) : undefined;
        try {
          await timed('impressions', () =>
            copyLines(client, impressionsCopySql(schema), impressionLines(settings, start, tally, clicks, truth)),
          );
        } finally {
          clicks.close();
          truth?.close();
        }
        await timed('clicks', () => copyLines(client, clicksCopySql(schema), createReadStream(clicks.path, 'utf8')));
        if (truth) {
          await timed('truth', () => copyLines(client, truthCopySql(schema), createReadStream(truth.path, 'utf8')));
        }
        await timed('commit', () => client.query('COMMIT'));
        // Fresh statistics, so the trainer's first read gets an ordered index scan, not a guess.
        await timed('analyze', () =>
          client.query(`ANALYZE ${schema}.impressions, ${schema}.clicks${writeTruth ? `, ${schema}.truth` : ''}`),
        );
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (error instanceof ClicklogError) throw error;
        throw writeError(error, schema, 'synthetic traffic');
      }
    });
  }
  const result: GenerateTrafficResult = {
    schema,
    impressions: tally.impressions,
    clicks: tally.clicks,
    meanTrueCtr: tally.impressions > 0 ? tally.sumTrueCtr / tally.impressions : 0,
    observedCtr: tally.impressions > 0 ? tally.clicks / tally.impressions : 0,
    from: new Date(start.getTime() + settings.firstDay * 86_400_000),
    to: new Date(
      Math.min(
        start.getTime() + (settings.firstDay + settings.days) * 86_400_000,
        settings.until?.getTime() ?? Infinity,
      ),
    ),
    elapsedMs: Math.round(performance.now() - began),
    phasesMs,
  };
  logger.info({ ...result }, 'synthetic traffic written');
  return result;
}
