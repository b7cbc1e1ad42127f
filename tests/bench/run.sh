#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: run every tests/bench/bench_*.sh in turn.
#
#   OWLS_BUILD=build tests/bench/run.sh [SUBSTR...]
#
# Each bench_*.sh is standalone: it reads $OWLS_BUILD (the build directory
# holding the binaries), prints its own table, exits 0 when it measured
# something (even if a target was MISSED) and non-zero when it could not run.
# To add a benchmark, drop a new tests/bench/bench_<name>.sh here; nothing to
# register. Arguments (or OWLS_BENCH_FILTER) keep only the scripts whose name
# contains one of the given substrings. Exits 1 when any benchmark broke.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export OWLS_BUILD=${OWLS_BUILD:-build}
filters=("$@")
[[ -n ${OWLS_BENCH_FILTER:-} ]] && filters+=("$OWLS_BENCH_FILTER")

ran=0
broken=()
for b in "$here"/bench_*.sh; do
  [[ -e $b ]] || continue
  name=$(basename "$b" .sh)
  if ((${#filters[@]})); then
    keep=0
    for f in "${filters[@]}"; do [[ $name == *"$f"* ]] && keep=1; done
    ((keep)) || continue
  fi
  ran=$((ran + 1))
  echo "=== $name"
  start=$SECONDS
  bash "$b"
  rc=$?
  if ((rc != 0)); then
    broken+=("$name")
    echo "=== $name: BROKEN (exit $rc)"
  else
    echo "=== $name: done in $((SECONDS - start)) s"
  fi
  echo
done

if ((ran == 0)); then
  echo "bench: no benchmark matched" >&2
  exit 1
fi
if ((${#broken[@]})); then
  echo "bench: $ran run, broken: ${broken[*]}"
  exit 1
fi
echo "bench: $ran run (targets: see MISSED/ok above)"
