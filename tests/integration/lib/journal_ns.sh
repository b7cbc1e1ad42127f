#!/usr/bin/env bash
# tests/integration/lib/journal_ns.sh OUT PIDFILE -- CMD [ARG...]
# Run CMD in place of this shell (same PID) with a journald of its own: meant
# to run under `unshare -m --propagation private`, it mounts a tmpfs on
# /run/systemd of that private mount namespace (the host's is untouched),
# starts journal_listener.py on /run/systemd/journal/socket writing OUT,
# records the listener's PID in PIDFILE (the caller stops it by PID), then
# execs CMD. Exit 1 before CMD runs if any step fails.
set -euo pipefail
out=$1 pidfile=$2
[[ $3 == -- ]] || { echo "usage: journal_ns.sh OUT PIDFILE -- CMD..." >&2; exit 2; }
shift 3
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the mount must be private to this namespace: refuse to run in the host's
[[ $(readlink /proc/self/ns/mnt) != $(readlink /proc/1/ns/mnt) ]] ||
  { echo "journal_ns.sh: not in a private mount namespace (run it under unshare -m)" >&2; exit 1; }
if [[ -d /run/systemd ]]; then
  mount -t tmpfs -o mode=0755,size=16m owls-journal /run/systemd
else
  mount -t tmpfs -o mode=0755,size=16m owls-journal /run
fi
mkdir -p /run/systemd/journal
python3 "$lib/journal_listener.py" /run/systemd/journal/socket "$out" &
echo "$!" >"$pidfile"
for _ in $(seq 200); do
  [[ -S /run/systemd/journal/socket ]] && exec "$@"
  sleep 0.05
done
echo "journal_ns.sh: journal_listener.py did not bind /run/systemd/journal/socket" >&2
exit 1
