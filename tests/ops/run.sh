#!/usr/bin/env bash
# tests/ops/run.sh -- run every tests/ops/test_*.sh (or those named as
# arguments); exit non-zero if any fails. `make ops-test` runs it with
# OWLS_BUILD set to the build directory holding the programs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if (($# > 0)); then tests=("$@"); else tests=("$here"/test_*.sh); fi
passed=0
failed=0
failed_names=()
for t in "${tests[@]}"; do
  [[ -f $t ]] || t=$here/$t
  echo "=== $(basename "$t")"
  if bash "$t"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failed_names+=("$(basename "$t")")
  fi
done
((failed == 0)) || echo "ops: FAILED: ${failed_names[*]}" >&2
echo "ops: $passed passed, $failed failed"
((failed == 0))
