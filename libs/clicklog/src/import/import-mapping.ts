import { RAW_COLUMNS } from '@fallback-ctr/model';
import { z } from 'zod';

export const IMPORT_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

const column = z.string().min(1, 'a column name');

/**
 * How the columns of a source file become impressions (and clicks). Every key is also a CLI flag
 * (`idColumn` ↔ `--id-column`) and a key of the mapping file (JSON or YAML); a flag overrides the file.
 */
export const ImportMappingSchema = z
  .object({
    format: z.enum(IMPORT_FORMATS).optional().describe('csv | jsonl | parquet (default: from the file extension)'),
    delimiter: z.string().length(1).default(',').describe('CSV field delimiter'),
    idColumn: column.optional().describe('column holding the impression id (default: a generated id)'),
    idPrefix: z
      .string()
      .min(1)
      .optional()
      .describe('generated ids are <prefix>:<line> (default prefix: the file name), so a re-import finds them again'),
    timestampColumn: column.describe('column holding when the impression was served (required)'),
    timestampFormat: z
      .string()
      .min(1)
      .default('iso')
      .describe('iso | unix-s | unix-ms | a pattern of YYYY YY MM DD HH mm ss SSS (e.g. YYMMDDHH)'),
    timeZone: z
      .string()
      .min(1)
      .default('UTC')
      .describe('IANA time zone of timestamps that carry no offset (e.g. Europe/Paris)'),
    labelColumn: column
      .optional()
      .describe('click flag on the row (1/0, true/false, yes/no); a flagged row gets a click at clicked_at'),
    clickedAtColumn: column.optional().describe('with labelColumn: column holding the click time (same format)'),
    clickDelaySeconds: z
      .number()
      .min(0)
      .default(0)
      .describe('with labelColumn and no clickedAtColumn: clicked_at = served_at + this delay'),
    clicksFile: z.string().min(1).optional().describe('separate click file (CSV/JSONL/Parquet): one row per click'),
    clicksIdColumn: column.default('impression_id').describe('column of the click file naming the impression id'),
    clicksTimestampColumn: column.default('clicked_at').describe('column of the click file holding the click time'),
    clicksTimestampFormat: z
      .string()
      .min(1)
      .optional()
      .describe('format of the click file timestamps (default: timestampFormat; same time zone)'),
    columns: z
      .partialRecord(z.enum(RAW_COLUMNS), column)
      .default({})
      .describe(`fixed column ← source column (${RAW_COLUMNS.join(', ')}); flag: --column ad_id=item_id`),
    ignore: z.array(column).default([]).describe('source columns to drop (every other column goes to context)'),
    maxBadRows: z
      .string()
      .regex(/^\d+(\.\d+)?%?$/, 'a count (e.g. 100) or a share of the rows read (e.g. 1%)')
      .default('1%')
      .describe('bad rows allowed before the import fails and writes nothing (a count or a share)'),
    rejectFile: z
      .string()
      .min(1)
      .optional()
      .describe('where bad rows past the first 20 go, one JSON line each (default: <file>.rejects.jsonl)'),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.labelColumn !== undefined && m.clicksFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['clicksFile'], message: 'give labelColumn or clicksFile, not both' });
    }
    if (m.clickedAtColumn !== undefined && m.labelColumn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['clickedAtColumn'], message: 'clickedAtColumn needs labelColumn' });
    }
  });
export type ImportMapping = z.output<typeof ImportMappingSchema>;
export type ImportMappingInput = z.input<typeof ImportMappingSchema>;

/** Keys of the mapping in declaration order (help text and flag parsing walk this). */
export const IMPORT_MAPPING_KEYS = Object.keys(ImportMappingSchema.shape) as (keyof ImportMapping)[];

export function formatOfFile(file: string, declared: ImportFormat | undefined): ImportFormat | undefined {
  if (declared !== undefined) return declared;
  const lower = file.toLowerCase().replace(/\.(gz)$/, '');
  if (lower.endsWith('.csv') || lower.endsWith('.tsv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  return undefined;
}

/** maxBadRows as a limit for `rowsRead` rows. */
export function badRowLimit(maxBadRows: string, rowsRead: number): number {
  if (maxBadRows.endsWith('%')) return Math.floor((Number(maxBadRows.slice(0, -1)) / 100) * rowsRead);
  return Number(maxBadRows);
}
