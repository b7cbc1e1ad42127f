#!/usr/bin/env bash
# tests/integration/test_daemon_crash.sh -- at-least-once under failure, against
# one moto (signature + IAM checks on, restricted user):
#   * crash: `kill -9` the daemon during a 2,000,000-row job (queue and daemon
#     visibility 10 s), once while the job runs and once after some artifacts
#     are uploaded but before MANIFEST.json; a second daemon completes the job
#     after the visibility timeout; artifacts complete and consistent (SPEC 6)
#   * heartbeat: S3 behind a throttling proxy makes a job last ~3x the queue's
#     4 s visibility timeout; the message is never redelivered meanwhile (a
#     second consumer polls the queue all along and must receive nothing)
#
#   OWLS_BUILD=build tests/integration/test_daemon_crash.sh
# Exit 0 all passed, 1 a failure, 2 no daemon binary. E2E_KEEP=1 keeps $W.
set -uo pipefail
# shellcheck source=lib/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"
e2e_init crash
e2e_moto_up

# ==== crash: kill -9 during a job ==============================================================
VIS=10
# maxReceiveCount 5: a SIGKILLed daemon's abandoned long poll stays open on the server
# and may take the message once more when it reappears (a receive nobody processes)
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-crash --visibility $VIS --max-receives 5)
export OWLS_WORK_QUEUE_URL
conf_write "$W/crash.conf" sqs.visibility_timeout=$VIS worker.threads=2
q4check gen 2000000 "$W/big.csv" --seed 7
echo "    (input: $(stat -c %s "$W/big.csv") bytes, 2000000 rows)"

# crash_case NAME RUN MODE VICTIM RESCUER
crash_case() {
  local name=$1 run=$2 mode=$3 victim=$4 rescuer=$5 key msg etag at_kill t_kill
  key="run=$run/input/big.csv"
  etag=$(owlsq put "$W/big.csv" "$key")
  daemon_alive "$victim" || daemon_start "$victim" "$W/crash.conf" || return
  msg=$(owlsq send --body "$(job_body "$key" "$run")")
  # inflight: the message is received; artifact: some artifacts stored, no MANIFEST yet
  if ! at_kill=$(owlsq kill-when --mode "$mode" --run "$run" --pid "${E2E_DPID[$victim]}" --timeout 60); then
    bad "$name: reach the kill point ($mode)" "$(owlsq list "run=$run/")" "$(log_excerpt "$victim")"
    return
  fi
  t_kill=$(now_ms)
  daemon_wait_exit "$victim" 10
  at_kill=$(tr '\n' ' ' <<<"$at_kill" | sed 's/ *$//')
  echo "    (killed pid ${E2E_DPID[$victim]} with ${at_kill:-no artifacts} stored)"
  if [[ $at_kill == *MANIFEST.json* ]]; then
    bad "$name: the kill landed during the job" "MANIFEST.json was already there: the job had finished"
    return
  fi
  ok "$name: kill -9 during the job (stored then: ${at_kill:-nothing})"
  daemon_alive "$rescuer" || daemon_start "$rescuer" "$W/crash.conf" || return
  if ! owlsq wait-done --timeout 90 --msg "$msg" >"$W/$run.done"; then
    bad "$name: a second daemon completes the job" "$(log_excerpt "$rescuer")"
    return
  fi
  local waited=$(($(now_ms) - t_kill))
  ok "$name: second daemon completed it ($waited ms after the kill)"
  # visible again VIS s after the last receive or extension; the killed daemon's abandoned
  # long poll may take it once more (nobody processes that receive): at most 2 VIS + slack
  if ((waited > (2 * VIS + 15) * 1000)); then
    bad "$name: redelivered within twice the visibility timeout" "took $waited ms"
  fi
  check_run "$name: artifacts complete and consistent with MANIFEST" "$run" "$W/big.csv" "$key" "$etag"
  if grep -q "work_message_id=$msg.*receive_count=[2-9]" "$(daemon_log "$rescuer")"; then
    ok "$name: the rescuer saw the message again (receive_count >= 2 in its log)"
  else
    bad "$name: the rescuer logs the redelivery" "$(log_excerpt "$rescuer" "$msg")"
  fi
  queue_is "$name: work queue empty" work "0 0" 30
}
E2E_MAIN=rescue1
crash_case "crash while the job runs" e2e-crash1 inflight victim1 rescue1
E2E_MAIN=rescue2
crash_case "crash after some artifacts, before MANIFEST" e2e-crash2 artifact rescue1 rescue2
# (rescue1 is the victim of the second case: it is the daemon running then)
n=$(awsadmin s3api list-multipart-uploads --bucket "$OWLS_ARTIFACTS_BUCKET" --query 'length(Uploads || `[]`)' --output text)
echo "    (multipart uploads left open by the killed daemons: $n; only a bucket lifecycle rule can clean those)"
queue_is "crash: dead-letter queue empty" dlq "0 0"
for d in rescue1 rescue2; do daemon_stop "$d"; done

# ==== heartbeat: a job 3x longer than the visibility timeout ========================================
VIS=4
RATE=50000 # bytes/s from S3 to the daemon
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-hb --visibility $VIS)
export OWLS_WORK_QUEUE_URL
q4check gen 21000 "$W/hb.csv" --seed 9
SIZE=$(stat -c %s "$W/hb.csv")
echo "    (input $SIZE bytes through a $RATE B/s proxy: about $((SIZE / RATE)) s of download)"
bg_start proxy python3 "$E2E_LIB/tcp_proxy.py" --upstream "127.0.0.1:$E2E_MOTO_PORT" \
  --port-file "$W/proxy.port" --down-rate $RATE --events "$W/proxy.events"
PROXY_PID=$BG_PID
wait_until 10 test -s "$W/proxy.port" || bad "heartbeat: proxy did not start"
PPORT=$(cat "$W/proxy.port")
conf_write "$W/hb.conf" sqs.visibility_timeout=$VIS worker.threads=1
E2E_MAIN=hb
if daemon_start hb "$W/hb.conf" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PPORT"; then
  KHB=run=e2e-hb/input/hb.csv
  ETHB=$(owlsq put "$W/hb.csv" "$KHB")
  MHB=$(owlsq send --body "$(job_body "$KHB" e2e-hb)")
  # the second consumer starts once the daemon holds the message
  if wait_until 30 eval '[[ $(owlsq counts work) == "0 1" ]]'; then
    rm -f "$W/consumer.stop"
    bg_start consumer python3 "$E2E_LIB/owlsq.py" consumer --out "$W/consumer.jsonl" --stop-file "$W/consumer.stop"
    CONS_PID=$BG_PID
    if owlsq wait-done --timeout 120 --msg "$MHB" >"$W/hb.done"; then
      touch "$W/consumer.stop"
      wait_until 15 eval '! proc_alive '"$CONS_PID" || bg_stop "$CONS_PID"
      dur=$(jq '.[0].duration_ms' "$W/hb.done")
      if ((dur >= VIS * 1000 * 5 / 2)); then
        ok "heartbeat: the job took $dur ms, $((dur / VIS / 10))% of the ${VIS} s visibility timeout"
      else
        bad "heartbeat: test set-up: the job must outlast the visibility timeout 2.5x" "duration_ms $dur"
      fi
      got=$(grep -c message_id "$W/consumer.jsonl")
      polls=$(grep -c started "$W/consumer.jsonl")
      if ((polls == 1 && got == 0)); then
        ok "heartbeat: a second consumer polling all along received nothing (no redelivery)"
      else
        bad "heartbeat: no redelivery while the job runs" "$(cat "$W/consumer.jsonl")" "$(log_excerpt hb)"
      fi
      if grep -q "work_message_id=$MHB.*receive_count=[2-9]" "$(daemon_log hb)"; then
        bad "heartbeat: receive count stays 1" "$(log_excerpt hb "$MHB")"
      else
        ok "heartbeat: receive count stays 1 in the daemon's log"
      fi
      owlsq drain 2
      check "heartbeat: exactly one done notification" "$(owlsq notes --msg "$MHB" | jq length)" 1
      check_run "heartbeat: run complete and correct" e2e-hb "$W/hb.csv" "$KHB" "$ETHB"
      queue_is "heartbeat: work queue empty" work "0 0" 20
    else
      touch "$W/consumer.stop"
      bad "heartbeat: the slow job completes" "$(log_excerpt hb)" "consumer: $(cat "$W/consumer.jsonl")"
    fi
  else
    bad "heartbeat: the daemon receives the job" "$(log_excerpt hb)"
  fi
  daemon_stop hb
  check "heartbeat: daemon exits 0" "${E2E_DRC[hb]:-none}" 0
fi
bg_stop "$PROXY_PID"
e2e_finish
