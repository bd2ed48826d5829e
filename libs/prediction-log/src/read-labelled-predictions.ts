import { errorMessage } from '@fallback-ctr/runtime';
import pg from 'pg';
import { PredictionLogError, PredictionLogErrorCode } from './errors.js';
import type { PredictionRole } from './predictions-table.js';
import { type PredictionLogTarget, resolveSchema } from './target.js';

export interface LabelledPredictionsQuery extends PredictionLogTarget {
  modelName: string;
  /** Predictions logged in [from, to). */
  from: Date;
  to: Date;
  /** A click counts when clicked_at − impression served_at is in [0, this many minutes] (as in training). */
  attributionWindowMinutes: number;
  /** Default: both roles. */
  role?: PredictionRole;
}

/** One logged score joined with the ad server's impression log and its click label. */
export interface LabelledPrediction {
  impressionId: string;
  modelVersion: string;
  role: PredictionRole;
  score: number;
  /** When the inference API scored it. */
  scoredAt: Date;
  /** 1 when a click arrived within the attribution window after the impression was served. */
  clicked: 0 | 1;
}

/**
 * Logged predictions of one model in a time range whose impression the ad server logged (a fallback
 * answer the ad server did not use has no impression row and is left out), each labelled exactly as
 * the trainer labels training rows. Only impressions whose attribution window has closed by `to` are
 * worth reading: the caller passes a `to` at least one window in the past. Ordered by scored time.
 * Needs the click-log tables (`impressions`, `clicks`) in the same schema.
 */
export async function readLabelledPredictions(query: LabelledPredictionsQuery): Promise<LabelledPrediction[]> {
  const schema = resolveSchema(query);
  const seconds = Math.round(query.attributionWindowMinutes * 60);
  const sql = `
SELECT p.impression_id, p.model_version, p.role, p.score, p.served_at,
       EXISTS (
         SELECT 1 FROM ${schema}.clicks c
         WHERE c.impression_id = i.id
           AND c.clicked_at >= i.served_at AND c.clicked_at <= i.served_at + $4 * interval '1 second'
       ) AS clicked
FROM ${schema}.predictions p
JOIN ${schema}.impressions i ON i.id = p.impression_id
WHERE p.model_name = $1 AND p.served_at >= $2 AND p.served_at < $3 ${query.role ? 'AND p.role = $5' : ''}
ORDER BY p.served_at`;
  const params: unknown[] = [query.modelName, query.from, query.to, seconds];
  if (query.role) params.push(query.role);
  const own = typeof query.db === 'string' ? new pg.Client({ connectionString: query.db }) : undefined;
  try {
    if (own) await own.connect();
    const client = own ?? (query.db as pg.Pool);
    const { rows } = await client.query<{
      impression_id: string;
      model_version: string;
      role: PredictionRole;
      score: number;
      served_at: Date;
      clicked: boolean;
    }>(sql, params);
    return rows.map((r) => ({
      impressionId: r.impression_id,
      modelVersion: r.model_version,
      role: r.role,
      score: r.score,
      scoredAt: r.served_at,
      clicked: r.clicked ? 1 : 0,
    }));
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === '42P01') {
      throw new PredictionLogError(
        PredictionLogErrorCode.SCHEMA_MISSING,
        `A table is missing in schema "${schema}" (${errorMessage(error)}): run the click-log migrations and migratePredictionLog() first`,
        { cause: error },
      );
    }
    throw new PredictionLogError(
      PredictionLogErrorCode.READ_FAILED,
      `Reading logged predictions from schema "${schema}" failed: ${errorMessage(error)}`,
      { cause: error },
    );
  } finally {
    if (own) await own.end().catch(() => undefined);
  }
}
