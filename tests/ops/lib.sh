# shellcheck shell=bash disable=SC2034 # sourced; OPS_ROOT is for the sourcing test
# tests/ops/lib.sh -- helpers sourced by the tests/ops/test_*.sh scripts.
#   ok NAME / bad NAME WHY   record one named case
#   expect NAME CMD...       run CMD; the case passes if it exits 0
#   finish                   print "<test>: N passed, N failed", exit 1 on failure
# OPS_ROOT is the repository root; OPS_TMP a scratch dir removed on exit
# (set OPS_KEEP=1 to keep it). Every temporary file lives under OPS_TMP.
set -uo pipefail
OPS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPS_NAME=$(basename "$0" .sh)
OPS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/owls-$OPS_NAME.XXXXXX")
OPS_PASS=0
OPS_FAIL=0
OPS_CLEANUP=()
ops_cleanup() {
  local c
  for c in "${OPS_CLEANUP[@]}"; do eval "$c" || true; done
  if [[ ${OPS_KEEP:-0} == 1 ]]; then echo "$OPS_NAME: kept $OPS_TMP" >&2; else rm -rf "$OPS_TMP"; fi
}
trap ops_cleanup EXIT
trap 'exit 130' INT TERM

ok() { OPS_PASS=$((OPS_PASS + 1)); echo "  ok   $1"; }
bad() { OPS_FAIL=$((OPS_FAIL + 1)); echo "  FAIL $1: ${2:-}"; }
expect() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$(printf '%s' "$out" | tail -n 5)"; fi
}
finish() {
  echo "$OPS_NAME: $OPS_PASS passed, $OPS_FAIL failed"
  ((OPS_FAIL == 0))
  exit
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_moto: start moto_server on a free 127.0.0.1 port (auth off), wait
# until it answers (30 s failure guard), stop it by PID on exit. Sets
# MOTO_EP and MOTO_PID; returns 1 if it did not come up.
start_moto() {
  local port i
  port=$(free_port)
  MOTO_EP=http://127.0.0.1:$port
  moto_server -H 127.0.0.1 -p "$port" >"$OPS_TMP/moto.log" 2>&1 &
  MOTO_PID=$!
  OPS_CLEANUP+=("kill $MOTO_PID 2>/dev/null; wait $MOTO_PID 2>/dev/null")
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null --max-time 1 "$MOTO_EP/moto-api/" && return 0
    kill -0 "$MOTO_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 5 "$OPS_TMP/moto.log" >&2
  return 1
}
