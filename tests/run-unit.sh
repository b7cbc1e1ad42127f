#!/usr/bin/env bash
# tests/run-unit.sh BIN... -- run cmocka unit test binaries; fail on the first
# failure. OWLS_UNIT_FILTER=word runs only binaries whose name contains word.
set -uo pipefail
fail=0; ran=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
for t in "$@"; do
  if [[ -n ${OWLS_UNIT_FILTER:-} && $t != *${OWLS_UNIT_FILTER}* ]]; then continue; fi
  ran=$((ran + 1))
  if ! "$t"; then
    echo "unit: FAILED: $t" >&2
    fail=1
  fi
done
echo "unit: $ran test programs run ($( ((fail)) && echo FAILED || echo ok))"
exit $fail
