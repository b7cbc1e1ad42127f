// tests/parquet/equiv.mjs OUTDIR -- one table written by DuckDB as CSV and as
// Parquet in every codec and encoding variant, for test_equivalence.sh.
// Columns: numeric (INTEGER, BIGINT, DOUBLE, DECIMAL) and ignored (text with
// commas and quotes, DATE, BOOLEAN, an all-NULL column); no FLOAT (its CSV
// text is the float's, not the widened double's) and no TIMESTAMP (DuckDB's
// CSV text differs from the ISO 8601 we print; neither affects the fit).
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const out = resolve(process.argv[2] ?? '.');
const rows = Number(process.argv[3] ?? 3000);
mkdirSync(out, { recursive: true });
const con = await (await DuckDBInstance.create(':memory:')).connect();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
await con.run(`CREATE TABLE t AS SELECT
    i::INTEGER AS id,
    ((hash(i) % 200000)::DOUBLE / 1000.0 - 100) AS a,
    ((hash(i * 7 + 1) % 100000)::DOUBLE / 3000.0) + 0.5 * ((hash(i) % 200000)::DOUBLE / 1000.0) AS b,
    ((hash(i * 13 + 5) % 1000000)::DECIMAL(12,4) / 7)::DECIMAL(12,4) AS c,
    (hash(i * 3) % 1000000007)::BIGINT - 500000000 AS d,
    'item ' || i || CASE WHEN i % 9 = 0 THEN ', "special"' ELSE '' END AS label,
    DATE '2020-02-28' + (i % 400)::INTEGER AS day,
    (i % 4 = 1) AS flag,
    NULL::DOUBLE AS nothing
  FROM range(${rows}) r(i)`);
await con.run(`COPY t TO ${lit(join(out, 'data.csv'))} (FORMAT csv, HEADER true)`);
const variants = {
  uncompressed: 'COMPRESSION uncompressed',
  snappy: 'COMPRESSION snappy',
  gzip: 'COMPRESSION gzip',
  zstd: 'COMPRESSION zstd',
  nodict: 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1',
  v2enc: 'COMPRESSION zstd, PARQUET_VERSION v2',
  rowgroups: 'COMPRESSION snappy, ROW_GROUP_SIZE 2048',
};
for (const [name, opts] of Object.entries(variants)) {
  await con.run(`COPY t TO ${lit(join(out, `data_${name}.parquet`))} (FORMAT parquet, ${opts})`);
}
console.log(`equiv: data.csv and ${Object.keys(variants).length} Parquet variants in ${out}`);
