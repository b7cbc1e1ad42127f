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
#   * transient S3 failures injected by a proxy: a 403 on the input is an
#     authorization problem, not input_not_found (the message goes to the DLQ
#     after maxReceiveCount, no notification, no error record, a loud log
#     line); 503 SlowDown for a while, then the job succeeds (SPEC 1, 6)
#   * nothing lost: while the done notification cannot be sent the work
#     message stays; once SQS recovers the job is notified and acknowledged
#   * timeouts: an S3 server that accepts and never answers holds neither the
#     job (the request times out well under 25 s) nor the other worker
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

# crash_case NAME RUN MODE VICTIM RESCUER [cli]   (cli: upload with the aws CLI, multipart)
crash_case() {
  local name=$1 run=$2 mode=$3 victim=$4 rescuer=$5 key msg etag at_kill t_kill
  key="run=$run/input/big.csv"
  if [[ ${6:-} == cli ]]; then # aws s3 cp uploads 57 MB in parts: an ETag with a -N suffix
    awsadmin s3 cp "$W/big.csv" "s3://$OWLS_ARCHIVE_BUCKET/$key" >/dev/null
    etag=$(awsadmin s3api head-object --bucket "$OWLS_ARCHIVE_BUCKET" --key "$key" --query ETag --output text | tr -d '"')
    [[ $etag == *-* ]] || bad "test set-up: a multipart ETag" "got $etag"
  else
    etag=$(owlsq put "$W/big.csv" "$key")
  fi
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
crash_case "crash while the job runs" e2e-crash1 inflight victim1 rescue1 cli
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

# ==== transient failures: injected S3 403 and 503 ===================================================
VIS=5
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-transient --visibility $VIS --max-receives 3)
export OWLS_WORK_QUEUE_URL
proxy_start faulty "$E2E_MOTO_PORT" 0
FAULTY_PID=$PROXY_PID
conf_write "$W/tr.conf" sqs.visibility_timeout=$VIS worker.threads=2
E2E_MAIN="tr"
if daemon_start tr "$W/tr.conf" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PROXY_PORT" \
  AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$PROXY_PORT"; then
  q4check gen 200 "$W/tr.csv" --seed 71
  # (a) S3 denies the input for good: 403 AccessDenied on every request for it
  echo "403 AccessDenied /$OWLS_ARCHIVE_BUCKET/run(=|%3D)e2e-403/" >"$W/faulty.faults"
  K403=run=e2e-403/input/tr.csv
  owlsq put "$W/tr.csv" "$K403" >/dev/null
  M403=$(owlsq send --body "$(job_body "$K403" e2e-403)")
  if wait_until 120 eval '[[ $(owlsq counts dlq) == "1 0" ]]'; then
    ok "403 on the input: the message ends in the dead-letter queue after maxReceiveCount"
    owlsq drain 1
    check "403 on the input: no done notification (it is not input_not_found)" \
      "$(owlsq notes --msg "$M403" | jq -c '[.[] | .error.code // .status]')" "[]"
    check "403 on the input: no error record" \
      "$(owlsq list run=e2e-403/ | wc -l) $(owlsq list "errors/$M403" | wc -l)" "0 0"
    echo "    (requests answered 403: $(proxy_faults faulty 'e2e-403'))"
    if grep -aiE '(warning|err|crit|alert).*(AccessDenied|403|denied|forbidden)' "$(daemon_log tr)" >/dev/null; then
      ok "403 on the input: logged loudly (warning or worse, naming the denial)"
    else
      bad "403 on the input: logged loudly" "$(log_excerpt tr)"
    fi
  else
    bad "403 on the input: the message ends in the dead-letter queue (120 s)" \
      "work $(owlsq counts work), dlq $(owlsq counts dlq)" "$(owlsq notes --msg "$M403")" "$(log_excerpt tr)"
  fi
  owlsq purge dlq
  # (b) S3 throttles for a while (503 SlowDown), then recovers: the job succeeds
  echo "503 SlowDown /$OWLS_ARCHIVE_BUCKET/run(=|%3D)e2e-503/" >"$W/faulty.faults"
  K503=run=e2e-503/input/tr.csv
  ET503=$(owlsq put "$W/tr.csv" "$K503")
  M503=$(owlsq send --body "$(job_body "$K503" e2e-503)")
  if wait_until 60 eval '(( $(proxy_faults faulty e2e-503) >= 3 ))'; then
    : >"$W/faulty.faults"
    if owlsq wait-done --timeout 90 --msg "$M503" >/dev/null; then
      check "503 for a while: the job then succeeds, no failed notification" \
        "$(owlsq notes --msg "$M503" | jq -c '[.[] | .status] | unique')" '["succeeded"]'
      check_run "503 for a while: run complete and correct" e2e-503 "$W/tr.csv" "$K503" "$ET503"
    else
      bad "503 for a while: the job succeeds once S3 recovers (90 s)" "$(log_excerpt tr)"
    fi
  else
    bad "503: test set-up: the daemon hits the injected 503" "$(tail -5 "$W/faulty.events")" "$(log_excerpt tr)"
  fi
  # (c) the done notification cannot be sent for a while: the work message must stay
  echo "503 ServiceUnavailable AmazonSQS.SendMessage" >"$W/faulty.faults"
  KNL=run=e2e-nolost/input/tr.csv
  ETNL=$(owlsq put "$W/tr.csv" "$KNL")
  MNL=$(owlsq send --body "$(job_body "$KNL" e2e-nolost)")
  if wait_until 60 eval '(( $(proxy_faults faulty SendMessage) >= 3 ))'; then
    c=$(owlsq counts work)
    check "SendMessage failing: the work message is not deleted (visible + in flight = 1)" \
      "$((${c% *} + ${c#* }))" 1
    check "SendMessage failing: no notification went out" "$(owlsq notes --msg "$MNL" | jq length)" 0
    : >"$W/faulty.faults"
    if owlsq wait-done --timeout 90 --msg "$MNL" >/dev/null; then
      ok "SendMessage recovers: the job is notified"
      queue_is "SendMessage recovers: then acknowledged (work queue empty)" work "0 0" 30
      check "SendMessage recovers: only succeeded notifications" \
        "$(owlsq notes --msg "$MNL" | jq -c '[.[] | .status] | unique')" '["succeeded"]'
      # the redelivered message finds the MANIFEST: its notification says duplicate (SPEC 5)
      check_run "SendMessage recovers: run complete and correct" e2e-nolost "$W/tr.csv" "$KNL" "$ETNL" --redelivered
    else
      bad "SendMessage recovers: the job is notified (90 s)" "$(log_excerpt tr)"
    fi
  else
    : >"$W/faulty.faults"
    bad "SendMessage: test set-up: the daemon hits the injected 503" "$(tail -5 "$W/faulty.events")" "$(log_excerpt tr)"
  fi
  # (d) S3 accepts the connection for one input and never answers
  echo "0 Hang /$OWLS_ARCHIVE_BUCKET/run(=|%3D)e2e-hang/" >"$W/faulty.faults"
  KHG=run=e2e-hang/input/tr.csv
  ETHG=$(owlsq put "$W/tr.csv" "$KHG")
  MHG=$(owlsq send --body "$(job_body "$KHG" e2e-hang)")
  if wait_until 30 eval '(( $(proxy_faults faulty e2e-hang) >= 1 ))'; then
    KOK=run=e2e-besides/input/tr.csv
    ETOK=$(owlsq put "$W/tr.csv" "$KOK")
    owlsq send --body "$(job_body "$KOK" e2e-besides)" >/dev/null
    if owlsq wait-done --timeout 30 --run e2e-besides >/dev/null; then
      check_run "hung S3 connection: the other worker completes another job meanwhile" \
        e2e-besides "$W/tr.csv" "$KOK" "$ETOK"
    else
      bad "hung S3 connection: the other worker completes another job meanwhile (30 s)" "$(log_excerpt tr)"
    fi
    if wait_until 40 grep -q ' gaveup ' "$W/faulty.events"; then
      held=$(awk '$2 == "fault" && $5 ~ /e2e-hang/ && !f { f = $3; t = $1 } $2 == "gaveup" && $3 == f { printf "%d", ($1 - t) * 1000; exit }' "$W/faulty.events")
      if [[ -n $held ]] && ((held < 25000)); then ok "hung S3 connection: the daemon gave up after $held ms (< 25 s)"; else
        bad "hung S3 connection: the daemon gives up well under 25 s" "held ${held:-?} ms" "$(grep -E 'fault|gaveup' "$W/faulty.events" | head)"
      fi
    else
      bad "hung S3 connection: the daemon gives up (40 s)" "$(grep -E 'fault|gaveup' "$W/faulty.events" | head)" "$(log_excerpt tr)"
    fi
    : >"$W/faulty.faults"
    if owlsq wait-done --timeout 90 --msg "$MHG" >/dev/null; then
      check_run "hung S3 connection: once S3 answers, the job completes" e2e-hang "$W/tr.csv" "$KHG" "$ETHG"
    else
      bad "hung S3 connection: once S3 answers, the job completes (90 s)" "$(log_excerpt tr)"
    fi
  else
    : >"$W/faulty.faults"
    bad "hang: test set-up: the daemon reaches the hanging server" "$(tail -5 "$W/faulty.events")"
  fi
  queue_is "transient: work queue empty" work "0 0" 30
  daemon_stop tr
  check "transient: daemon exits 0" "${E2E_DRC[tr]:-none}" 0
fi
bg_stop "$FAULTY_PID"
e2e_finish
