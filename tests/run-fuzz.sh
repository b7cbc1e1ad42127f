#!/usr/bin/env bash
# tests/run-fuzz.sh SECONDS BIN... -- a short libFuzzer run of every harness,
# starting from its committed seed corpus (tests/fuzz/corpus/<name>/).
set -euo pipefail
secs=$1; shift
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for bin in "$@"; do
  name=$(basename "$bin")
  seeds=tests/fuzz/corpus/${name#fuzz_}
  work=build-fuzz/corpus/${name#fuzz_}
  mkdir -p "$work"
  args=("$work")
  [[ -d $seeds ]] && args+=("$seeds")
  dict=tests/fuzz/${name#fuzz_}.dict
  [[ -f $dict ]] && args=(-dict="$dict" "${args[@]}")
  echo "fuzz: $name for ${secs}s"
  "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=0 \
    "${args[@]}" 2>build-fuzz/$name.log || { tail -60 build-fuzz/$name.log; exit 1; }
  grep -E '^(#[0-9]+|Done)' build-fuzz/$name.log | tail -1 || true
done
