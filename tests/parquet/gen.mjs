// tests/parquet/gen.mjs OUTDIR -- write the Parquet test fixtures with real
// writers, each with a CSV twin of its values written by DuckDB.
//
//   DuckDB (@duckdb/node-api): every codec, dictionary on and off, Parquet
//     "v2" encodings (DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, DELTA_*), row
//     groups, nulls, strings, decimals, dates, timestamps, big integers;
//   hyparquet-writer: DATA_PAGE_V2 pages (DuckDB writes only v1 pages), many
//     small pages and row groups.
//
// The CSV twin <name>.csv is DuckDB reading <name>.parquet back, with the
// columns that our reader prints as text formatted the way it prints them
// (SPEC-side convention documented in include/owls/parquet.h): FLOAT widened
// to DOUBLE, TIMESTAMP as ISO 8601 with 'T' and the fraction only when not
// zero. The unit test compares our reader against these twins; nothing here
// comes from our reader. Run: cd tests/parquet && npm ci && node gen.mjs DIR
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetWriteFile } from 'hyparquet-writer';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const out = resolve(process.argv[2] ?? '.');
mkdirSync(out, { recursive: true });
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;

// One table of mixed types, 120 rows: nulls and quotes in the text column.
const BASIC = `
  SELECT i::INTEGER AS id,
         (i * 0.37 - 20)::DOUBLE AS x,
         ((i % 13) * 1.25)::DOUBLE AS y,
         (i * i * 12345 - 99999)::BIGINT AS big,
         CASE WHEN i % 17 = 0 THEN NULL
              ELSE 'name ' || i || CASE WHEN i % 5 = 0 THEN ', "quoted"' ELSE '' END END AS label,
         (i % 3 = 0) AS flag,
         DATE '2024-01-01' + i::INTEGER AS day,
         TIMESTAMP '2023-12-31 22:00:00' + to_seconds(i * 3601) + to_microseconds((i % 4) * 250000) AS ts,
         (i * 1.01 - 50)::DECIMAL(9,2) AS price,
         (i / 8.0 - 3.3)::FLOAT AS f,
         TIME '08:00:00' + to_seconds(i * 7) AS tm
  FROM range(120) t(i)`;

const duck = [
  // name, query, COPY options
  ['basic_uncompressed', BASIC, 'COMPRESSION uncompressed'],
  ['basic_snappy', BASIC, 'COMPRESSION snappy'],
  ['basic_gzip', BASIC, 'COMPRESSION gzip'],
  ['basic_zstd', BASIC, 'COMPRESSION zstd'],
  ['basic_nodict', BASIC, 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1'],
  ['basic_v2enc', BASIC, 'COMPRESSION zstd, PARQUET_VERSION v2'],
  // DuckDB cuts row groups at multiples of 2048 rows: three groups.
  ['multi_rg', `SELECT (i % 101)::INTEGER AS a, ((i % 7) * 0.5)::DOUBLE AS b
                FROM range(4200) t(i)`, 'COMPRESSION zstd, ROW_GROUP_SIZE 2048'],
  ['missing', `SELECT i::DOUBLE AS a, CASE WHEN i IN (22, 40) THEN NULL ELSE i * 0.5 END::DOUBLE AS x,
                      CASE WHEN i = 30 THEN NULL ELSE i END::INTEGER AS y
               FROM range(50) t(i)`, 'COMPRESSION snappy'],
  ['special', `SELECT i::DOUBLE AS a, (i * i)::DOUBLE AS b, NULL::DOUBLE AS empty,
                      CASE WHEN i % 4 = 1 THEN 'nan'::DOUBLE ELSE i END AS withnan,
                      CASE WHEN i = 3 THEN '-inf'::DOUBLE WHEN i = 5 THEN 'inf'::DOUBLE ELSE i END AS withinf,
                      CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd' END AS sparse,
                      CASE WHEN i % 5 = 0 THEN NULL WHEN i = 7 THEN 'inf'::DOUBLE ELSE i / 4 END AS nullinf
               FROM range(20) t(i)`, 'COMPRESSION snappy'],
  ['bigint', `SELECT i::DOUBLE AS x,
                     (9007199254740993 + i * 1000003)::BIGINT AS above53,
                     CASE WHEN i = 0 THEN 9223372036854775807 WHEN i = 1 THEN -9223372036854775808
                          ELSE i * -3 END::BIGINT AS extremes,
                     (18446744073709551615 - i)::UBIGINT AS ubig,
                     (4294967295 - i)::UINTEGER AS uint
              FROM range(12) t(i)`, 'COMPRESSION snappy'],
  ['decimals', `SELECT (i * 3.7 - 40)::DECIMAL(4,1) AS d4,
                       (i * 12345.678901 - 77777)::DECIMAL(18,6) AS d18,
                       ((i - 20) * 1234567890.0123456789)::DECIMAL(30,10) AS d30,
                       (i * 0.1)::DECIMAL(38,30) AS d38,
                       i::DOUBLE AS x
                FROM range(40) t(i)`, 'COMPRESSION snappy'],
  ['one_numeric', `SELECT i::DOUBLE AS x, 'v' || i AS s FROM range(10) t(i)`, 'COMPRESSION snappy'],
  ['one_row', `SELECT 1.5::DOUBLE AS x, 2.5::DOUBLE AS y`, 'COMPRESSION snappy'],
];

for (const [name, sql, opts] of duck) {
  await con.run(`COPY (${sql}) TO ${lit(join(out, name + '.parquet'))} (FORMAT parquet, ${opts})`);
}

// DATA_PAGE_V2 from hyparquet-writer: 300 rows, row groups of 100, small pages.
const N = 300;
const cols = [
  { name: 'x', type: 'DOUBLE', data: Array.from({ length: N }, (_, i) => i * 0.25 - 7.5) },
  { name: 'k', type: 'INT32', data: Array.from({ length: N }, (_, i) => (i * 37) % 91 - 45) },
  { name: 'w', type: 'DOUBLE', data: Array.from({ length: N }, (_, i) => ((i * 13) % 17) / 3) },
  { name: 's', type: 'STRING', data: Array.from({ length: N }, (_, i) => (i % 7 === 3 ? null : `row ${i}`)) },
  { name: 'b', type: 'BOOLEAN', data: Array.from({ length: N }, (_, i) => i % 3 === 0) },
];
for (const codec of ['SNAPPY', 'UNCOMPRESSED']) {
  parquetWriteFile({
    filename: join(out, `v2pages_${codec.toLowerCase()}.parquet`),
    columnData: cols, codec, rowGroupSize: 100, pageSize: 200,
  });
}
// The same table with the DELTA encodings and BYTE_STREAM_SPLIT chosen per
// column (DELTA_BYTE_ARRAY is not written by DuckDB).
const enc = { x: 'BYTE_STREAM_SPLIT', k: 'DELTA_BINARY_PACKED', s: 'DELTA_BYTE_ARRAY' };
parquetWriteFile({
  filename: join(out, 'v2pages_delta.parquet'),
  columnData: cols.map((c) => (enc[c.name] ? { ...c, encoding: enc[c.name] } : c)),
  codec: 'SNAPPY', rowGroupSize: 100, pageSize: 200,
});

// The CSV twins, DuckDB's reading of the files. Variants of one table (the
// basic_* codecs and encodings, the v2pages_* codecs) share one twin.
const twins = [
  ['basic', 'basic_uncompressed'], ['v2pages', 'v2pages_uncompressed'],
  ...duck.map((d) => d[0]).filter((n) => !n.startsWith('basic_')).map((n) => [n, n]),
];
const files = [...duck.map((d) => d[0]), 'v2pages_snappy', 'v2pages_uncompressed', 'v2pages_delta'];
for (const [twin, name] of twins) {
  const pq = lit(join(out, name + '.parquet'));
  const desc = await q(`DESCRIBE SELECT * FROM read_parquet(${pq})`);
  const sel = desc.map(({ column_name: c, column_type: t }) => {
    const id = `"${c.replaceAll('"', '""')}"`;
    if (t === 'FLOAT') return `${id}::DOUBLE AS ${id}`;
    if (t === 'TIMESTAMP') {
      return `strftime(${id}, '%Y-%m-%dT%H:%M:%S') ||
              CASE WHEN microsecond(${id}) % 1000000 <> 0
                   THEN '.' || lpad((microsecond(${id}) % 1000000)::VARCHAR, 6, '0') ELSE '' END AS ${id}`;
    }
    return id;
  });
  await con.run(`COPY (SELECT ${sel.join(', ')} FROM read_parquet(${pq}))
                 TO ${lit(join(out, twin + '.csv'))} (FORMAT csv, HEADER true)`);
}
console.log(`gen: ${files.length} Parquet files, ${twins.length} CSV twins in ${out}`);
