#!/usr/bin/env bash
# tests/integration/test_daemon_load.sh -- owls-q4d under load, against one
# moto (signature + IAM checks on, restricted user):
#   * 50 jobs, one daemon with [worker] threads = 4: every job has exactly one
#     complete artifact set and a done notification; work queue and DLQ end empty
#   * two daemons on one queue, 30 jobs: nothing lost, both did work, every run
#     byte-identical to a single computation of its input (SPEC 3 determinism)
#
#   OWLS_BUILD=build tests/integration/test_daemon_load.sh
# Exit 0 all passed, 1 a failure, 2 no daemon binary. E2E_KEEP=1 keeps $W.
set -uo pipefail
# shellcheck source=lib/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"
e2e_init load
e2e_moto_up
# the reference computation: owls-q4 split from the daemon's own build (the last bits of
# er.json depend on the compiler flags, e.g. -O2 against -O1 with sanitizers)
CLI=${OWLS_Q4:-$(dirname "$OWLSD")/owls-q4}
[[ -x $CLI ]] || bad "test set-up: owls-q4 next to the daemon ($CLI); set OWLS_Q4"

# ==== 50 jobs, 4 workers ====================================================================
conf_write "$W/four.conf" worker.threads=4
E2E_MAIN=four
if daemon_start four "$W/four.conf"; then
  t0=$(now_ms)
  send_batch load 50 400 1000
  wait_batch "50 jobs, 4 workers: a done notification for every job" load 240
  echo "    (50 jobs done in $(($(now_ms) - t0)) ms, upload and send included)"
  queue_is "50 jobs: work queue empty (visible 0, in flight 0)" work "0 0" 30
  queue_is "50 jobs: dead-letter queue empty" dlq "0 0"
  verify_batch "50 jobs: each run exactly one complete, correct artifact set (MANIFEST, sha256, partition, notification)" load
  check "50 jobs: no error records" "$(owlsq list errors/ | wc -l)" 0
  # the pool really ran 4 at a time: at some moment 4 jobs had started and not finished
  maxpar=$(awk '/job started:/ { n++; if (n > m) m = n } /run complete:|job failed:/ { n-- } END { print m + 0 }' \
    "$(daemon_log four)")
  echo "    (largest number of jobs running at once, from the log: $maxpar)"
  daemon_stop four
  check "50 jobs: daemon exits 0 on SIGTERM" "${E2E_DRC[four]:-none}" 0
fi

# ==== two daemons, one queue, 30 jobs ==========================================================
# A queue of its own: the stopped daemon's abandoned long poll may stay open on the server
# for up to 20 s and swallow a message for a whole visibility timeout (SQS semantics).
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-two)
export OWLS_WORK_QUEUE_URL
conf_write "$W/two.conf" worker.threads=2 sqs.max_messages=5 log.level=info
E2E_MAIN=alpha
daemon_start alpha "$W/two.conf"
daemon_start beta "$W/two.conf"
send_batch two 30 600 2000
wait_batch "two daemons: a done notification for every one of 30 jobs" two 240
queue_is "two daemons: work queue empty" work "0 0" 30
queue_is "two daemons: dead-letter queue empty" dlq "0 0"
verify_batch "two daemons: every run complete and correct, repeats agree" two
# every run byte-identical to one computation of its input (the CLI runs the same Q4 code)
mism=()
while IFS=$'\t' read -r run f _ _; do
  "$CLI" split "$f" -o "$W/two-ref/$run" --run-id "$run" >/dev/null 2>&1 ||
    mism+=("$run: owls-q4 split failed")
  out=$(q4check same-outputs "$W/two-ref/$run" "$W/two-runs/$run") || mism+=("$run: $out")
done <"$W/two.table"
if ((${#mism[@]})); then bad "two daemons: outputs byte-identical to a single computation" "${mism[@]}"; else
  ok "two daemons: Q_keep.csv, Q_discard.csv, er.json byte-identical to a single computation of each input"
fi
na=$(grep -o 'job started:.*run_id=two-[0-9]*' "$(daemon_log alpha)" | grep -o 'run_id=two-[0-9]*' | sort -u | wc -l)
nb=$(grep -o 'job started:.*run_id=two-[0-9]*' "$(daemon_log beta)" | grep -o 'run_id=two-[0-9]*' | sort -u | wc -l)
echo "    (runs started per daemon, from the logs: alpha $na, beta $nb)"
if ((na > 0 && nb > 0)); then ok "two daemons: both did work ($na + $nb runs started)"; else
  bad "two daemons: both did work" "alpha started $na runs, beta $nb (log lines 'job started: ... run_id=')"
fi
daemon_stop alpha
daemon_stop beta
check "two daemons: both exit 0 on SIGTERM" "${E2E_DRC[alpha]:-none} ${E2E_DRC[beta]:-none}" "0 0"
e2e_finish
