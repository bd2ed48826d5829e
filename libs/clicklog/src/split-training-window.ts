import { type Logger, silentLogger } from '@fallback-ctr/runtime';
import { z } from 'zod';
import { assertTables, resolveSchema, withClient } from './connection.js';
import { ClicklogError, ClicklogErrorCode } from './errors.js';
import { LabelWindowShape } from './label-window.js';
import { assertWindow, parseOptions } from './parse-options.js';
import {
  databaseNow,
  labelCutoff,
  NegativeSamplingSchema,
  readTrainingRows,
  type TrainingRowStream,
} from './read-training-rows.js';
import type { ClicklogTarget } from './target.js';

export const HoldoutSchema = z.union([
  /** The most recent `fraction` of the eligible rows (by served_at). */
  z.object({ fraction: z.number().gt(0).lt(1) }).strict(),
  /** The last `minutes` of the eligible window (ending at min(to, label cutoff)). */
  z.object({ minutes: z.number().positive() }).strict(),
]);
export type Holdout = z.infer<typeof HoldoutSchema>;

/** The window to split (its `now` is shared by both parts). */
export const SplitTrainingWindowOptionsSchema = z.object({
  ...LabelWindowShape,
  holdout: HoldoutSchema.default({ fraction: 0.1 }),
  includeTrueCtr: z.boolean().default(false),
  /**
   * Negative down-sampling of the training part, done by the database (see readTrainingRows); the
   * holdout is always read whole, so its metrics are on the rows as served.
   */
  trainNegativeSampling: NegativeSamplingSchema.optional(),
  batchSize: z.number().int().min(1).max(100_000).default(2_000),
});

export interface SplitTrainingWindowOptions extends ClicklogTarget, z.input<typeof SplitTrainingWindowOptionsSchema> {
  logger?: Logger;
}

export interface SplitPart {
  /** Inclusive start. */
  from: Date;
  /** Exclusive end (the holdout's is min(to, label cutoff), where the cutoff instant itself is eligible). */
  to: Date;
  /** Eligible impressions in this part when the split was made (before any negative down-sampling). */
  rows: number;
  /** Streams this part (same now, attribution window and schema as the split). */
  read(options?: { signal?: AbortSignal }): TrainingRowStream;
}

export interface TrainingSplit {
  now: Date;
  /** Impressions served at or before this instant are eligible (now - attribution window). */
  labelCutoff: Date;
  attributionWindowMinutes: number;
  /** Every training row is served strictly before every holdout row. */
  train: SplitPart;
  holdout: SplitPart;
}

/**
 * Splits [from, to) by time: training = eligible rows served before a cut, holdout = the most
 * recent slice (served at or after it). Rows sharing the cut instant all go to the holdout, so the
 * holdout is strictly later. Throws CLICKLOG_EMPTY_WINDOW when either part would be empty.
 */
export async function splitTrainingWindow(options: SplitTrainingWindowOptions): Promise<TrainingSplit> {
  const schema = resolveSchema(options);
  const s = parseOptions(SplitTrainingWindowOptionsSchema, options, 'splitTrainingWindow');
  assertWindow(s.from, s.to);
  const logger = options.logger ?? silentLogger();

  const { now, cutoff, cut, trainRows, holdoutRows } = await withClient(options.db, async (client) => {
    await assertTables(client, schema, ['impressions', 'clicks']);
    const now = s.now ?? (await databaseNow(client));
    const cutoff = labelCutoff(now, s.attributionWindowMinutes);
    const eligible = `FROM ${schema}.impressions WHERE served_at >= $1 AND served_at < $2 AND served_at <= $3`;
    const params = [s.from, s.to, cutoff];
    if ('minutes' in s.holdout) {
      // The cut is known before counting: both parts in one scan of the index.
      const end = Math.min(s.to.getTime(), cutoff.getTime());
      const at = new Date(end - s.holdout.minutes * 60_000);
      const { rows } = await client.query<{ n: string; train: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE served_at < $4) AS train ${eligible}`,
        [...params, at],
      );
      const total = Number(rows[0]!.n);
      const trainRows = Number(rows[0]!.train);
      return { now, cutoff, cut: total > 0 ? at : undefined, trainRows, holdoutRows: total - trainRows };
    }
    const total = Number((await client.query<{ n: string }>(`SELECT count(*) AS n ${eligible}`, params)).rows[0]!.n);
    let cut: Date | undefined;
    if (total > 0) {
      const offset = Math.min(total - 1, Math.floor(total * (1 - s.holdout.fraction)));
      const { rows } = await client.query<{ served_at: Date }>(
        `SELECT served_at ${eligible} ORDER BY served_at OFFSET $4 LIMIT 1`,
        [...params, offset],
      );
      cut = rows[0]?.served_at;
    }
    let trainRows = 0;
    if (cut) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n ${eligible} AND served_at < $4`, [
        ...params,
        cut,
      ]);
      trainRows = Number(rows[0]!.n);
    }
    return { now, cutoff, cut, trainRows, holdoutRows: total - trainRows };
  });

  if (!cut || trainRows === 0 || holdoutRows === 0) {
    const part = !cut ? 'the window' : trainRows === 0 ? 'the training part' : 'the holdout';
    throw new ClicklogError(
      ClicklogErrorCode.EMPTY_WINDOW,
      `Cannot split [${s.from.toISOString()}, ${s.to.toISOString()}) in schema "${schema}": ${part} has no eligible ` +
        `impressions (${trainRows} train, ${holdoutRows} holdout; label cutoff ${cutoff.toISOString()} = now ` +
        `${now.toISOString()} minus ${s.attributionWindowMinutes} minutes): widen the window or change the holdout`,
    );
  }

  const base = {
    db: options.db,
    schema,
    attributionWindowMinutes: s.attributionWindowMinutes,
    now,
    includeTrueCtr: s.includeTrueCtr,
    batchSize: s.batchSize,
    logger,
  };
  const holdoutEnd = new Date(Math.min(s.to.getTime(), cutoff.getTime()));
  logger.info(
    { schema, from: s.from, cut, holdoutEnd, trainRows, holdoutRows, now, labelCutoff: cutoff },
    'training window split',
  );
  const splitCut = cut;
  return {
    now,
    labelCutoff: cutoff,
    attributionWindowMinutes: s.attributionWindowMinutes,
    train: {
      from: s.from,
      to: splitCut,
      rows: trainRows,
      read: (o) =>
        readTrainingRows({
          ...base,
          from: s.from,
          to: splitCut,
          signal: o?.signal,
          ...(s.trainNegativeSampling ? { negativeSampling: s.trainNegativeSampling } : {}),
        }),
    },
    holdout: {
      from: splitCut,
      to: holdoutEnd,
      rows: holdoutRows,
      read: (o) => readTrainingRows({ ...base, from: splitCut, to: s.to, signal: o?.signal }),
    },
  };
}
