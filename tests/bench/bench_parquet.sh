#!/usr/bin/env bash
# tests/bench/bench_parquet.sh -- the Parquet reader through `owls-q4 split`.
#
#   OWLS_BUILD=build tests/bench/bench_parquet.sh
#
# DuckDB writes a 1,000,000 x 8 DOUBLE table as Parquet (snappy) and as CSV
# (tests/parquet/bench.mjs). Measured in this one run, median of $RUNS (5):
#   owls-q4 split on the Parquet file: wall time and peak RSS;
#   owls-q4 split on the CSV file: wall time and peak RSS (target: Parquet is
#     no slower than CSV);
#   DuckDB (one thread) summing every column of the Parquet file: the query
#     alone, as the reference for what reading the file costs.
# One summary line per measurement. Exits 0 when it measured (a missed target
# prints MISSED), non-zero when it could not run. BENCH_ROWS changes the size.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pqdir=$here/../parquet
bin=$(cd "${OWLS_BUILD:-build}" && pwd)/owls-q4
RUNS=${RUNS:-5}
ROWS=${BENCH_ROWS:-1000000}
die() { echo "bench_parquet: $*" >&2; exit 1; }
[[ -x $bin ]] || die "no $bin (build it first)"
command -v node >/dev/null || die "node missing"
if [[ ! -d $pqdir/node_modules/@duckdb/node-api ]]; then
  (cd "$pqdir" && npm ci --no-audit --no-fund >/dev/null) || die "npm ci failed"
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/owls-bench-pq.XXXXXX")
trap 'rm -rf -- "$T"' EXIT
export OWLS_THREADS=1 OMP_NUM_THREADS=1

node "$pqdir/bench.mjs" gen "$T" "$ROWS"
for f in parquet csv; do
  "$bin" split "$T/bench.$f" -o "$T/out-$f" --run-id bench >/dev/null 2>"$T/$f.err" ||
    die "owls-q4 split on $f failed: $(head -c 300 "$T/$f.err")"
done

# measure NAME FILE -> "median min peak_rss_kb" of `owls-q4 split FILE`
measure() {
  python3 - "$RUNS" "$bin" "$2" "$T/out-$1" <<'PY'
import os, resource, shutil, statistics, subprocess, sys, time
runs, binary, src, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ts = []
for _ in range(runs):
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([binary, "split", src, "-o", out, "--run-id", "bench"], check=True,
                   stdout=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t0)
print(statistics.median(ts), min(ts), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
read -r pq_med pq_min pq_rss < <(measure parquet "$T/bench.parquet")
read -r csv_med csv_min csv_rss < <(measure csv "$T/bench.csv")
read -r db_med db_min < <(node "$pqdir/bench.mjs" query "$T/bench.parquet" "$RUNS")
# The two runs must agree on the result.
cmp -s "$T/out-parquet/er.json" "$T/out-csv/er.json" || die "er.json differs between Parquet and CSV"

python3 - "$ROWS" "$(stat -c %s "$T/bench.parquet")" "$(stat -c %s "$T/bench.csv")" \
  "$pq_med" "$pq_min" "$pq_rss" "$csv_med" "$csv_min" "$csv_rss" "$db_med" "$db_min" "$RUNS" <<'PY'
import sys
rows, pq_size, csv_size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pq_med, pq_min, pq_rss, csv_med, csv_min, csv_rss, db_med, db_min = map(float, sys.argv[4:12])
runs = sys.argv[12]
raw = rows * 8 * 8 / 1e6
print(f"parquet: owls-q4 split {rows} x 8 DOUBLE snappy ({pq_size / 1e6:.1f} MB): median {pq_med:.3f} s "
      f"(min {pq_min:.3f}) of {runs}, peak RSS {pq_rss / 1024:.1f} MB ({pq_rss * 1024 / 1e6 / raw:.2f}x the "
      f"{raw:.0f} MB of doubles)")
print(f"csv: owls-q4 split same data as CSV ({csv_size / 1e6:.1f} MB): median {csv_med:.3f} s "
      f"(min {csv_min:.3f}), peak RSS {csv_rss / 1024:.1f} MB")
print(f"duckdb: sum of 8 columns of the Parquet file, 1 thread, query only: median {db_med:.3f} s "
      f"(min {db_min:.3f})")
print(f"target parquet no slower than csv: {pq_med:.3f} s vs {csv_med:.3f} s: "
      f"{'ok' if pq_med <= csv_med else 'MISSED'}")
PY
