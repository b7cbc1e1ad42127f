#!/usr/bin/env bash
# tests/parquet/test_equivalence.sh -- the same table as CSV and as Parquet
# (every codec and encoding DuckDB writes) must give identical Q_study.json
# (apart from its "input" block) and er.json from `owls-q4 split`, and the
# same rows in Q_keep.csv / Q_discard.csv (numbers compared as doubles, text
# byte for byte).
#
#   OWLS_BUILD=build tests/parquet/test_equivalence.sh
#
# Needs node with tests/parquet/node_modules (installed with `npm ci` when
# missing; the npm registry must be reachable) and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${OWLS_BUILD:-build}" && pwd)/owls-q4
[[ -x $bin ]] || { echo "equivalence: no $bin (build it first)" >&2; exit 1; }
if [[ ! -d $here/node_modules/@duckdb/node-api ]]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
node "$here/equiv.mjs" "$tmp" "${EQUIV_ROWS:-3000}" >/dev/null

"$bin" split "$tmp/data.csv" -o "$tmp/out-csv" --run-id equiv >/dev/null
pass=0 fail=0
for pq in "$tmp"/data_*.parquet; do
  v=$(basename "$pq" .parquet)
  if ! "$bin" split "$pq" -o "$tmp/out-$v" --run-id equiv >"$tmp/$v.log" 2>&1; then
    echo "equivalence: FAIL $v: owls-q4 split failed: $(cat "$tmp/$v.log")"
    fail=$((fail + 1)); continue
  fi
  if python3 - "$tmp/out-csv" "$tmp/out-$v" <<'PY'
import csv, json, sys
a, b = sys.argv[1], sys.argv[2]
ok = True
def load(d, n):
    with open(f"{d}/{n}") as f:
        return json.load(f)
sa, sb = load(a, "Q_study.json"), load(b, "Q_study.json")
for s in (sa, sb):
    s.pop("input", None)
if sa != sb:
    ok = False
    for k in sa:
        if sa.get(k) != sb.get(k):
            print(f"  Q_study.json: {k}: csv {sa.get(k)!r} vs parquet {sb.get(k)!r}")
with open(f"{a}/er.json", "rb") as fa, open(f"{b}/er.json", "rb") as fb:
    if fa.read() != fb.read():
        ok = False
        print("  er.json differs")
# The JSON files must be byte-identical too, once "input" is set aside.
def same_cell(x, y):
    if x == y:
        return True
    try:
        return float(x) == float(y) and (("." in x or "e" in x.lower()) or ("." in y or "e" in y.lower()))
    except ValueError:
        return False
for name in ("Q_keep.csv", "Q_discard.csv"):
    with open(f"{a}/{name}", newline="") as fa, open(f"{b}/{name}", newline="") as fb:
        ra, rb = list(csv.reader(fa)), list(csv.reader(fb))
    if len(ra) != len(rb):
        ok = False
        print(f"  {name}: {len(ra)} vs {len(rb)} lines")
        continue
    for i, (x, y) in enumerate(zip(ra, rb)):
        if len(x) != len(y) or not all(same_cell(p, q) for p, q in zip(x, y)):
            ok = False
            print(f"  {name}: line {i + 1}: {x} vs {y}")
            break
sys.exit(0 if ok else 1)
PY
  then
    # byte-identical JSON apart from the input block
    if cmp -s "$tmp/out-csv/er.json" "$tmp/out-$v/er.json" &&
       diff <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("input"); print(json.dumps(d))' "$tmp/out-csv/Q_study.json") \
            <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("input"); print(json.dumps(d))' "$tmp/out-$v/Q_study.json") >/dev/null; then
      echo "equivalence: ok $v"; pass=$((pass + 1))
    else
      echo "equivalence: FAIL $v: JSON not identical"; fail=$((fail + 1))
    fi
  else
    echo "equivalence: FAIL $v"; fail=$((fail + 1))
  fi
done
echo "equivalence: $pass passed, $fail failed"
((fail == 0))
