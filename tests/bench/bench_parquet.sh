#!/usr/bin/env bash
# tests/bench/bench_parquet.sh -- the same table as Parquet and as CSV.
#
#   OWLS_BUILD=build tests/bench/bench_parquet.sh     (needs $OWLS_BUILD/owls-q4
#                                                       and $OWLS_BUILD/readbench)
#
# DuckDB writes a 1,000,000 x 8 DOUBLE table (standard normal, fixed seed) as
# Parquet (snappy) and as CSV (tests/parquet/bench.mjs). Measured in this one
# run, each the median of $RUNS (5):
#   read: owls_input_load_file + owls_input_read_table (what the issue's
#     target "reading the Parquet input is no slower than reading the same
#     data as CSV" talks about), in one process per format (readbench), with
#     its phases (load, read_table, split, write) and the process's peak RSS;
#   end to end: `owls-q4 split` on each file, wall time and peak RSS;
#   DuckDB (one thread) summing every column of the Parquet file, the query
#     alone: the reference for what reading that file costs.
# Prints one summary line per measurement and a line per target (ok or
# MISSED). Exits 0 when it measured (even with a target MISSED), non-zero when
# it could not run. BENCH_ROWS changes the size, RUNS the repetitions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pqdir=$here/../parquet
build=$(cd "${OWLS_BUILD:-build}" && pwd)
bin=$build/owls-q4
rb=$build/readbench
RUNS=${RUNS:-5}
ROWS=${BENCH_ROWS:-1000000}
die() { echo "bench_parquet: $*" >&2; exit 1; }
[[ -x $bin ]] || die "no $bin (build it first)"
[[ -x $rb ]] || die "no $rb (make BUILD=${OWLS_BUILD:-build} ${OWLS_BUILD:-build}/readbench)"
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
# The two runs must agree on the result, and the Parquet run's CSV must hold
# the very numbers of the CSV input: every value parses back to the same
# double (SPEC section 4), which the shortest round-trip text guarantees.
cmp -s "$T/out-parquet/er.json" "$T/out-csv/er.json" || die "er.json differs between Parquet and CSV"
/usr/bin/python3 - "$T" <<'PY' || die "the Parquet run's Q_keep.csv does not hold the input's doubles"
import sys
t = sys.argv[1]
def rows(p):
    with open(p) as f:
        next(f)
        return [tuple(float(x) for x in line.split(",")) for line in f]
a, b = rows(f"{t}/out-parquet/Q_keep.csv"), rows(f"{t}/out-csv/Q_keep.csv")
sys.exit(0 if a == b and len(a) > 0 else 1)
PY

# readbench FILE -> its key=value line
read_csv=$("$rb" -n "$RUNS" -o "$T/rb-csv" "$T/bench.csv")
read_pq=$("$rb" -n "$RUNS" -o "$T/rb-parquet" "$T/bench.parquet")

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

python3 - "$ROWS" "$(stat -c %s "$T/bench.parquet")" "$(stat -c %s "$T/bench.csv")" \
  "$pq_med" "$pq_min" "$pq_rss" "$csv_med" "$csv_min" "$csv_rss" "$db_med" "$db_min" "$RUNS" \
  "$read_pq" "$read_csv" <<'PY'
import sys
rows, pq_size, csv_size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pq_med, pq_min, pq_rss, csv_med, csv_min, csv_rss, db_med, db_min = map(float, sys.argv[4:12])
runs = sys.argv[12]
rb = {}
for name, line in (("parquet", sys.argv[13]), ("csv", sys.argv[14])):
    rb[name] = {k: v for k, v in (kv.split("=", 1) for kv in line.split())}
raw = rows * 8 * 8 / 1e6
def phases(name):
    r = rb[name]
    return (f"load {float(r['load']):.3f} + read_table {float(r['read_table']):.3f}; "
            f"split {float(r['split']):.3f}, write {float(r['write']):.3f}; "
            f"peak RSS {int(r['peak_rss_kb']) / 1024:.1f} MB")
rp, rc = float(rb["parquet"]["read"]), float(rb["csv"]["read"])
print(f"read parquet ({pq_size / 1e6:.1f} MB, {rows} x 8 DOUBLE snappy): median {rp:.3f} s "
      f"(min {float(rb['parquet']['read_min']):.3f}) of {runs}  [{phases('parquet')}]")
print(f"read csv ({csv_size / 1e6:.1f} MB, same data): median {rc:.3f} s "
      f"(min {float(rb['csv']['read_min']):.3f})  [{phases('csv')}]")
print(f"duckdb: sum of 8 columns of the Parquet file, 1 thread, query only: median {db_med:.3f} s "
      f"(min {db_min:.3f})")
print(f"split parquet: owls-q4 split end to end: median {pq_med:.3f} s (min {pq_min:.3f}), "
      f"peak RSS {pq_rss / 1024:.1f} MB ({pq_rss * 1024 / 1e6 / raw:.2f}x the {raw:.0f} MB of doubles)")
print(f"split csv: owls-q4 split end to end: median {csv_med:.3f} s (min {csv_min:.3f}), "
      f"peak RSS {csv_rss / 1024:.1f} MB")
print(f"target read parquet no slower than csv: {rp:.3f} s vs {rc:.3f} s: "
      f"{'ok' if rp <= rc else 'MISSED'}")
print(f"target split parquet no slower than csv: {pq_med:.3f} s vs {csv_med:.3f} s: "
      f"{'ok' if pq_med <= csv_med else 'MISSED'}")
PY
