#!/usr/bin/env bash
# moto-down.sh STATE_DIR -- stop the moto that moto-up.sh started there, by the
# PID in STATE_DIR/moto.pid only (never by name); checks that the PID is still
# a moto process first (PIDs get reused). Leaves STATE_DIR (logs) in place.
set -u
STATE_DIR=${1:?usage: moto-down.sh STATE_DIR}
PIDF=$STATE_DIR/moto.pid
[[ -f $PIDF ]] || { echo "moto-down: no $PIDF" >&2; exit 0; }
PID=$(cat "$PIDF")
if kill -0 "$PID" 2>/dev/null && grep -qa -e moto_sigfix -e moto_server "/proc/$PID/cmdline"; then
  kill -TERM "$PID"
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; echo "moto-down: pid $PID needed SIGKILL" >&2; fi
  echo "moto-down: stopped pid $PID" >&2
else
  echo "moto-down: pid $PID not running (or not moto); removing stale pid file" >&2
fi
rm -f "$PIDF"
