// tests/parquet/bench.mjs -- DuckDB's side of tests/bench/bench_parquet.sh.
//   node bench.mjs gen DIR ROWS   write DIR/bench.parquet (snappy) and the
//                                 same table as DIR/bench.csv: ROWS x 8 DOUBLE,
//                                 standard normal (Box-Muller, fixed seed)
//   node bench.mjs query FILE RUNS  read FILE with DuckDB RUNS times
//                                 (SELECT of every column's sum); prints the
//                                 median and min seconds of the query alone
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';

const [mode, a, b] = process.argv.slice(2);
const con = await (await DuckDBInstance.create(':memory:')).connect();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
await con.run('SET threads = 1');
if (mode === 'gen') {
  const rows = Number(b);
  const cols = Array.from({ length: 8 }, (_, j) =>
    `sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) * ${j + 1} + ${j} AS x${j}`);
  await con.run('SELECT setseed(0.42)');
  await con.run(`CREATE TABLE t AS SELECT ${cols.join(', ')} FROM range(${rows})`);
  await con.run(`COPY t TO ${lit(join(a, 'bench.parquet'))} (FORMAT parquet, COMPRESSION snappy)`);
  await con.run(`COPY t TO ${lit(join(a, 'bench.csv'))} (FORMAT csv, HEADER true)`);
} else if (mode === 'query') {
  const sums = Array.from({ length: 8 }, (_, j) => `sum(x${j})`).join(', ');
  const ts = [];
  for (let i = 0; i < Number(b); i++) {
    const t0 = process.hrtime.bigint();
    await con.runAndReadAll(`SELECT ${sums} FROM read_parquet(${lit(a)})`);
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  ts.sort((x, y) => x - y);
  console.log(ts[Math.floor(ts.length / 2)], ts[0]);
} else {
  console.error('usage: bench.mjs gen DIR ROWS | query FILE RUNS');
  process.exit(64);
}
