// One-off comparison of format libraries for clicklog import (README: Format libraries).
// Run in a scratch folder: npm i csv-parse papaparse csv-parser hyparquet hyparquet-compressors @duckdb/node-api;
// make data.csv / data.jsonl / data.parquet (1M rows), then: node clicklog-import-formats.mjs <library>
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import csvParser from 'csv-parser';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import Papa from 'papaparse';

const which = process.argv[2];
const t = performance.now();
let n = 0;
let sink = 0;
if (which === 'csv-parse') {
  for await (const rec of createReadStream('data.csv').pipe(parse({ columns: true, info: true }))) {
    n++;
    sink += rec.record.ad.length + rec.info.lines;
  }
} else if (which === 'csv-parse-arrays') {
  for await (const rec of createReadStream('data.csv').pipe(parse({ info: true }))) {
    n++;
    sink += rec.record[4].length;
  }
} else if (which === 'papaparse') {
  await new Promise((res) =>
    Papa.parse(createReadStream('data.csv'), {
      header: true,
      step: (r) => {
        n++;
        sink += r.data.ad.length;
      },
      complete: res,
    }),
  );
} else if (which === 'csv-parser') {
  for await (const rec of createReadStream('data.csv').pipe(csvParser())) {
    n++;
    sink += rec.ad.length;
  }
} else if (which === 'jsonl') {
  for await (const line of createInterface({ input: createReadStream('data.jsonl'), crlfDelay: Infinity })) {
    const o = JSON.parse(line);
    n++;
    sink += o.ad.length;
  }
} else if (which.startsWith('duckdb')) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const src =
    which === 'duckdb-csv'
      ? "read_csv('data.csv')"
      : which === 'duckdb-json'
        ? "read_json('data.jsonl', format='newline_delimited')"
        : "read_parquet('data.parquet')";
  if (which === 'duckdb-write-parquet') {
    await c.run("COPY (SELECT * FROM read_csv('data.csv')) TO 'data.parquet' (FORMAT parquet, ROW_GROUP_SIZE 100000)");
  } else {
    const r = await c.stream(`SELECT * FROM ${src}`);
    for await (const rows of r.yieldRowObjectJs()) {
      for (const o of rows) {
        n++;
        sink += String(o.ad).length;
      }
    }
  }
} else if (which === 'hyparquet') {
  const file = await asyncBufferFromFile('data.parquet');
  const meta = await parquetMetadataAsync(file);
  let start = 0;
  for (const rg of meta.row_groups) {
    const end = start + Number(rg.num_rows);
    const rows = await parquetReadObjects({ file, metadata: meta, rowStart: start, rowEnd: end, compressors });
    for (const o of rows) {
      n++;
      sink += String(o.ad).length;
    }
    start = end;
  }
}
const s = (performance.now() - t) / 1000;
console.log(
  which,
  n,
  `${s.toFixed(2)} s`,
  `${Math.round(n / s)} rows/s`,
  `rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  // Printed so the parsed values are used and the parse cannot be optimised away.
  `checksum ${sink}`,
);
