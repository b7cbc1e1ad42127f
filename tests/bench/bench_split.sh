#!/usr/bin/env bash
# tests/bench/bench_split.sh -- `owls-q4 split` on a 1,000,000 x 8 gaussian CSV
# against the original Python design (pandas + scikit-learn), in one run.
#
#   OWLS_BUILD=build tests/bench/bench_split.sh      (normally via `make bench`)
#
# Knobs (environment): OWLS_BENCH_ROWS (1000000), OWLS_BENCH_RUNS (5, >= 5 for
# the report), OWLS_BENCH_BASE_RUNS (3), OWLS_BENCH_CACHE ($OWLS_BUILD/bench,
# where the generated input is kept between runs).
#
# Prints a small table; targets: >= 250 MB/s end to end on one thread, >= 20x
# faster than pandas+scikit-learn, peak RSS <= 2x the input size. A missed
# target prints MISSED but still exits 0 (this is a report); a broken run
# (binary missing, split failing) exits 1.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${OWLS_BUILD:-build}
BIN=$(cd "$BUILD" 2>/dev/null && pwd)/owls-q4
PY=/usr/bin/python3
ROWS=${OWLS_BENCH_ROWS:-1000000}
RUNS=${OWLS_BENCH_RUNS:-5}
BASE_RUNS=${OWLS_BENCH_BASE_RUNS:-3}
CACHE=${OWLS_BENCH_CACHE:-$BUILD/bench}
RUN_ID=bench-split-1

die() { echo "bench_split: $*" >&2; exit 1; }
[[ -x $BIN ]] || die "no executable owls-q4 at $BUILD/owls-q4 (make BUILD=$BUILD first)"
mkdir -p "$CACHE" || die "cannot create $CACHE"
IN=$(cd "$CACHE" && pwd)/gauss-${ROWS}x8.csv
if [[ ! -s $IN ]]; then
  echo "bench_split: generating $IN (once; cached)"
  "$PY" "$ROOT/tests/integration/gen_data.py" gaussian "$ROWS" 8 "$IN" --seed 1 --fmt %.6f ||
    die "cannot generate the input"
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/owls-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

# Two measurements: --threads 1 (everything on one thread: the 250 MB/s
# target is per core) and the default (the digests on helper threads).
SPLIT=("$BIN" split "$IN" -o "$T/out" --run-id "$RUN_ID" --threads 1)
SPLIT2=("$BIN" split "$IN" -o "$T/out" --run-id "$RUN_ID")
export OMP_NUM_THREADS=1
BASE=("$PY" "$HERE/baseline_pandas.py" "$IN" "$T/base" "$RUN_ID")

# A first run proves the command works (and warms the page cache).
rm -rf "$T/out"
"${SPLIT[@]}" >/dev/null 2>"$T/split.err" || die "owls-q4 split failed: $(head -c 500 "$T/split.err")"
n=$(find "$T/out" -mindepth 1 | wc -l)
[[ $n == 5 ]] || die "owls-q4 split wrote $n files, expected 5"

# median_seconds NAME RUNS PREPARE CMD... -> "MEDIAN MIN" wall times in seconds.
median_seconds() {
  local name=$1 runs=$2 prep=$3
  shift 3
  if command -v hyperfine >/dev/null; then
    local q=() a
    for a in "$@"; do q+=("$(printf '%q' "$a")"); done
    hyperfine --style none --runs "$runs" --prepare "$prep" \
      --export-json "$T/$name.json" "${q[*]}" >/dev/null 2>"$T/$name.hf" ||
      die "hyperfine $name failed: $(tail -c 500 "$T/$name.hf")"
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["median"], r["min"])' \
      "$T/$name.json"
  else
    "$PY" - "$runs" "$prep" "$@" <<'EOF'
import statistics, subprocess, sys, time
runs, prep, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
ts = []
for _ in range(runs):
    subprocess.run(prep, shell=True, check=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t0)
print(statistics.median(ts), min(ts))
EOF
  fi
}

# peak_rss_kb CMD... -> the child's peak resident set in KiB.
peak_rss_kb() {
  "$PY" - "$@" <<'EOF'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if r.returncode != 0:
    sys.exit("exit %d" % r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
}

echo "bench_split: timing owls-q4 split ($RUNS runs) and pandas+scikit-learn ($BASE_RUNS runs)..."
read -r t_split min_split < <(median_seconds split "$RUNS" "rm -rf $(printf '%q' "$T/out")" "${SPLIT[@]}")
[[ -n ${min_split:-} ]] || exit 1
rm -rf "$T/out"
rss_split=$(peak_rss_kb "${SPLIT[@]}") || die "owls-q4 split failed under the RSS probe"
rm -rf "$T/out"
read -r t_split2 min_split2 < <(median_seconds split2 "$RUNS" "rm -rf $(printf '%q' "$T/out")" "${SPLIT2[@]}")
[[ -n ${min_split2:-} ]] || exit 1
rm -rf "$T/out"
rss_split2=$(peak_rss_kb "${SPLIT2[@]}") || die "owls-q4 split (default threads) failed under the RSS probe"
read -r t_base min_base < <(median_seconds base "$BASE_RUNS" "rm -rf $(printf '%q' "$T/base")" "${BASE[@]}")
[[ -n ${min_base:-} ]] || exit 1
rm -rf "$T/base"
rss_base=$(peak_rss_kb "${BASE[@]}") || die "baseline failed under the RSS probe"

"$PY" - "$IN" "$ROWS" "$t_split" "$rss_split" "$t_base" "$rss_base" "$RUNS" "$BASE_RUNS" \
  "$(command -v hyperfine >/dev/null && echo hyperfine || echo python timer)" "$min_split" \
  "$min_base" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" "$t_split2" "$min_split2" \
  "$rss_split2" <<'EOF'
import os, sys
inp, rows = sys.argv[1], int(sys.argv[2])
t_split, rss_split, t_base, rss_base = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
runs, base_runs, timer = sys.argv[7], sys.argv[8], sys.argv[9]
min_split, min_base, load = float(sys.argv[10]), float(sys.argv[11]), sys.argv[12]
t_split2, min_split2, rss_split2 = float(sys.argv[13]), float(sys.argv[14]), int(sys.argv[15])
size = os.path.getsize(inp)
mbs = size / 1e6 / t_split
ratio = t_base / t_split
rss_mb, base_mb = rss_split * 1024 / 1e6, rss_base * 1024 / 1e6
verdict = lambda good: "ok" if good else "MISSED"
print("owls-q4 split: %d x 8 gaussian CSV, %.1f MB, median of %s (%s); "
      "load average %s" % (rows, size / 1e6, runs, timer, load))
fmt = "  %-36s %14s   %-26s %s"
print(fmt % ("measure", "value", "target", ""))
print(fmt % ("--threads 1: wall time", "%.3f s" % t_split, "(min %.3f s)" % min_split, ""))
print(fmt % ("--threads 1: throughput", "%.1f MB/s" % mbs, ">= 250 MB/s on one thread",
             verdict(mbs >= 250)))
print(fmt % ("--threads 1: rows", "%.2f M rows/s" % (rows / t_split / 1e6), "", ""))
print(fmt % ("--threads 1: peak RSS", "%.1f MB" % rss_mb, "<= %.1f MB (2x input)" % (2 * size / 1e6),
             verdict(rss_mb * 1e6 <= 2 * size)))
mbs2, ratio2, rss2_mb = size / 1e6 / t_split2, t_base / t_split2, rss_split2 * 1024 / 1e6
print(fmt % ("default (digests on 2nd thread): wall", "%.3f s" % t_split2, "(min %.3f s)" % min_split2, ""))
print(fmt % ("default: throughput", "%.1f MB/s" % mbs2, "", ""))
print(fmt % ("default: peak RSS", "%.1f MB" % rss2_mb, "<= %.1f MB (2x input)" % (2 * size / 1e6),
             verdict(rss2_mb * 1e6 <= 2 * size)))
print(fmt % ("pandas+sklearn wall time", "%.3f s" % t_base,
             "(median of %s, min %.3f s)" % (base_runs, min_base), ""))
print(fmt % ("pandas+sklearn peak RSS", "%.1f MB" % base_mb, "", ""))
print(fmt % ("speed-up vs pandas, --threads 1", "%.1fx" % ratio, ">= 20x", verdict(ratio >= 20)))
print(fmt % ("speed-up vs pandas, default", "%.1fx" % ratio2, ">= 20x", verdict(ratio2 >= 20)))
EOF
exit 0
