#!/usr/bin/env bash
# tests/valgrind.sh -- `make valgrind`: run the binaries under memcheck on a
# success path and on error paths; any memory error or definite/indirect leak
# fails the run.
#
#   OWLS_BUILD=build tests/valgrind.sh [SUBSTR]
#
# Cases are `vg_case NAME EXPECTED_STATUS CMD...` lines: below for owls-q4,
# and in tests/valgrind.d/*.sh (sourced in name order, with $BUILD, $W (a
# scratch directory removed at exit) and vg_case available) for anything else,
# e.g. the daemon -- add a file there rather than editing this one. An argument
# (or OWLS_VG_FILTER) runs only the cases whose name contains it.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${OWLS_BUILD:-build}" 2>/dev/null && pwd) || {
  echo "valgrind: no build directory ${OWLS_BUILD:-build}" >&2
  exit 2
}
FILTER=${1:-${OWLS_VG_FILTER:-}}
command -v valgrind >/dev/null || { echo "valgrind: valgrind is not installed (make deps)" >&2; exit 2; }
W=$(mktemp -d "${TMPDIR:-/tmp}/owls-vg.XXXXXX")
trap 'rm -rf "$W"' EXIT

# shellcheck disable=SC2054 # "definite,indirect" is one argument
VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --track-origins=yes --num-callers=30)
VG_ERR=99
ran=0
failed=()

# vg_case NAME EXPECTED_STATUS CMD...: run CMD under memcheck; the case passes
# when the exit status is EXPECTED_STATUS (so an error path must still fail
# the way it should) and memcheck reported nothing.
vg_case() {
  local name=$1 want=$2 rc log
  shift 2
  [[ -n $FILTER && $name != *"$FILTER"* ]] && return 0
  ran=$((ran + 1))
  log=$W/$name.vg
  "${VG[@]}" --log-file="$log" "$@" >"$W/$name.out" 2>"$W/$name.err"
  rc=$?
  if ((rc == VG_ERR)) || [[ $rc != "$want" ]] || grep -q 'ERROR SUMMARY: [1-9]' "$log"; then
    failed+=("$name")
    echo "FAIL $name (exit $rc, expected $want)"
    sed 's/^/    /' "$W/$name.err" | head -5
    grep -v '^==[0-9]*== *$' "$log" | sed 's/^/    /' | head -80
  else
    echo "ok   $name"
  fi
}

# --- owls-q4 split -----------------------------------------------------------
Q4=$BUILD/owls-q4
if [[ -x $Q4 ]]; then
  /usr/bin/python3 "$ROOT/tests/integration/gen_data.py" case quoted-fields "$W/quoted.csv"
  /usr/bin/python3 "$ROOT/tests/integration/gen_data.py" case bom-crlf "$W/bom.csv"
  printf 'a,b,c\n1,2,3\n4,5,6,7\n' >"$W/ragged.csv"
  printf 'alpha,beta,gamma\n1,2,3\n4,,6\n7,8,9\n' >"$W/missing.csv"
  printf 'a,b\n1,2\n3,"4\n' >"$W/unterminated.csv"
  vg_case split-quoted       0  "$Q4" split "$W/quoted.csv" -o "$W/o1" --run-id vg-1
  vg_case split-bom-crlf     0  "$Q4" split "$W/bom.csv" -o "$W/o2" --run-id vg-2
  vg_case split-ragged       65 "$Q4" split "$W/ragged.csv" -o "$W/o3" --run-id vg-3
  vg_case split-missing      65 "$Q4" split "$W/missing.csv" -o "$W/o4" --run-id vg-4
  vg_case split-unterminated 65 "$Q4" split "$W/unterminated.csv" -o "$W/o5" --run-id vg-5
  vg_case split-no-input     66 "$Q4" split "$W/nope.csv" -o "$W/o6" --run-id vg-6
  vg_case split-usage        64 "$Q4" split "$W/quoted.csv"
else
  echo "valgrind: $Q4 missing: make BUILD=${OWLS_BUILD:-build} first" >&2
  failed+=(owls-q4-missing)
fi

# --- more cases from other modules ---------------------------------------------
for f in "$ROOT"/tests/valgrind.d/*.sh; do
  [[ -e $f ]] || continue
  # shellcheck source=/dev/null
  source "$f"
done

echo "valgrind: $ran cases, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
((${#failed[@]} == 0))
