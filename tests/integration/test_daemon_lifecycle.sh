#!/usr/bin/env bash
# tests/integration/test_daemon_lifecycle.sh -- owls-q4d's life as a service,
# against one moto (signature + IAM checks on, restricted user; seeded, so that
# a restarted moto gives the running daemon its keys back):
#   * sd_notify: READY=1 only once the work queue answered, STATUS=, WATCHDOG=1
#     at least every WATCHDOG_USEC/2, STOPPING=1 on SIGTERM, all from the main PID
#   * SIGTERM while idle, a 20 s long poll in flight: exit 0 in under 2 s
#   * SIGTERM while busy: running jobs finish, exit 0 within the grace period,
#     unstarted messages visible again at once, nothing lost
#   * SIGHUP re-reads [log] level; at debug level no secret or signature is logged
#   * journald: with JOURNAL_STREAM set, entries carry RUN_ID, INPUT_KEY,
#     WORK_MESSAGE_ID, RECEIVE_COUNT, ERROR_CODE and PRIORITY as fields
#   * emulator outage: moto stopped for 20 s and restarted; the daemon stays
#     near idle CPU meanwhile and serves again without a restart (SPEC 6)
#
#   OWLS_BUILD=build tests/integration/test_daemon_lifecycle.sh
# Exit 0 all passed, 1 a failure, 2 no daemon binary. E2E_KEEP=1 keeps $W.
set -uo pipefail
# shellcheck source=lib/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"
e2e_init lifecycle
e2e_moto_up --seeded
MOTO_WORK_URL=$OWLS_WORK_QUEUE_URL

# ==== sd_notify (SPEC 7) ==========================================================================
# READY=1 waits for the work queue: SQS first points at a port where nothing listens
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-sd)
export OWLS_WORK_QUEUE_URL
conf_write "$W/sd.conf" worker.threads=2
DEAD_PORT=$(free_port)
E2E_MAIN=sd
E2E_NO_READY_WAIT=1 daemon_start sd "$W/sd.conf" WATCHDOG_USEC=2000000 \
  AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$DEAD_PORT"
if wait_until 5 notify_has sd '^READY=1$'; then
  bad "sd_notify: no READY=1 while the work queue cannot answer" "$(notify_lines sd)"
else
  ok "sd_notify: no READY=1 while the work queue is unreachable (5 s)"
fi
if daemon_alive sd; then
  ok "sd_notify: daemon keeps trying while SQS is unreachable at start-up"
  proxy_start sqsgate "$E2E_MOTO_PORT" 0 "$DEAD_PORT" # now the port answers, as moto
  if wait_until 60 notify_has sd '^READY=1$'; then
    ok "sd_notify: READY=1 once the work queue answers"
  else
    bad "sd_notify: READY=1 once the work queue answers (60 s)" "$(notify_lines sd | sort | uniq -c)" "$(log_excerpt sd)"
  fi
else
  daemon_wait_exit sd 1
  bad "sd_notify: daemon keeps trying while SQS is unreachable at start-up [assumption: SPEC 6 back-off]" \
    "exited with status ${E2E_DRC[sd]:-?}" "$(log_excerpt sd)"
fi
if daemon_alive sd; then
  q4check gen 300 "$W/sd.csv" --seed 51
  submit_run e2e-sd "$W/sd.csv"
  owlsq wait-done --timeout 60 --run e2e-sd >/dev/null || bad "sd_notify: a job completes" "$(log_excerpt sd)"
  # observe until the watchdog pings span 5 s (the listener's own clock), then stop
  # (seconds from READY=1 to the last WATCHDOG=1)
  span() { jq -s '([.[] | select(.msg | test("(^|\n)READY=1(\n|$)")) | .t] | first) as $r
    | [.[] | select(.msg | test("(^|\n)WATCHDOG=1(\n|$)")) | .t | select(. >= $r)]
    | if length > 1 then (last - $r) else 0 end' "$W/sd/notify.jsonl"; }
  wait_until 20 eval '(( $(span | cut -d. -f1) >= 5 ))'
  daemon_stop sd
  check "sd_notify: exit 0 on SIGTERM" "${E2E_DRC[sd]:-none}" 0
  if out=$(python3 - "$W/sd/notify.jsonl" "${E2E_DPID[sd]}" <<'EOF'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
bad = []
lines = [(m["t"], v) for m in msgs for v in m["msg"].split("\n") if v]
ready = [t for t, v in lines if v == "READY=1"]
if len(ready) != 1:
    bad.append("READY=1 sent %d times" % len(ready))
status = [v for _, v in lines if v.startswith("STATUS=")]
if not status:
    bad.append("no STATUS=")
elif not any(any(c.isdigit() for c in s) for s in status):
    bad.append("no STATUS= with job counts: %s" % status[:5])
pings = [t for t, v in lines if v == "WATCHDOG=1" and ready and t >= ready[0]]
gaps = [b - a for a, b in zip(pings, pings[1:])]
if len(pings) < 5:
    bad.append("only %d WATCHDOG=1 after READY=1" % len(pings))
elif max(gaps) > 1.05:  # WATCHDOG_USEC/2 = 1 s, 50 ms for the listener's scheduling
    bad.append("a gap of %.3f s between WATCHDOG=1 pings (WATCHDOG_USEC=2000000: at most 1 s)" % max(gaps))
stopping = [t for t, v in lines if v == "STOPPING=1"]
if not stopping:
    bad.append("no STOPPING=1")
others = sorted({m["pid"] for m in msgs if m["pid"] != pid})
if others:
    bad.append("datagrams from pids %s, not the main pid %d" % (others, pid))
print("%d datagrams, %d WATCHDOG=1 (largest gap %.3f s), %d STATUS=, last STATUS: %s"
      % (len(msgs), len(pings), max(gaps or [0]), len(status), status[-1] if status else None))
for b in bad:
    print("PROBLEM " + b)
sys.exit(1 if bad else 0)
EOF
  ); then
    ok "sd_notify: READY=1 once, STATUS= with counts, WATCHDOG=1 every <= 1 s, STOPPING=1, main PID"
    echo "    ($out)"
  else
    bad "sd_notify: the notify protocol" "$out"
  fi
fi
[[ -n ${PROXY_PID:-} ]] && bg_stop "$PROXY_PID"

# ==== SIGHUP: a new [log] level at once; never a secret in the log ===================================
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-hup)
export OWLS_WORK_QUEUE_URL
conf_write "$W/hup.conf" log.level=warning
E2E_MAIN=hup
if daemon_start hup "$W/hup.conf"; then
  q4check gen 200 "$W/hup.csv" --seed 55
  submit_run e2e-hup1 "$W/hup.csv"
  owlsq wait-done --timeout 60 --run e2e-hup1 >/dev/null || bad "SIGHUP: a job at level warning" "$(log_excerpt hup)"
  check "SIGHUP: at level warning no info/notice/debug lines" \
    "$(grep -cE '^owls-q4d: (info|notice|debug):' "$(daemon_log hup)")" 0
  conf_write "$W/hup.conf" log.level=debug
  n0=$(wc -l <"$(daemon_log hup)")
  daemon_signal hup HUP
  if wait_until 10 eval '(( $(wc -l <"$(daemon_log hup)") > n0 ))'; then
    ok "SIGHUP: the reload is logged ($(tail -n +"$((n0 + 1))" "$(daemon_log hup)" | head -1 | cut -c1-80))"
  else
    bad "SIGHUP: the reload is logged [operator expectation]" "$(log_excerpt hup)"
  fi
  submit_run e2e-hup2 "$W/hup.csv"
  owlsq wait-done --timeout 60 --run e2e-hup2 >/dev/null || bad "SIGHUP: a job at level debug" "$(log_excerpt hup)"
  nd=$(tail -n +"$((n0 + 1))" "$(daemon_log hup)" | grep -cE '^owls-q4d: debug:')
  if ((nd > 0)); then ok "SIGHUP: level debug applied at once ($nd debug lines for one job)"; else
    bad "SIGHUP: level debug applied" "$(log_excerpt hup)"
  fi
  daemon_stop hup
  check "SIGHUP: exit 0 on SIGTERM" "${E2E_DRC[hup]:-none}" 0
  leaks=$(grep -naF -e "$DAEMON_SK" -e 'Signature=' -e 'X-Amz-Signature' -e 'AWS4-HMAC-SHA256 Credential' \
    "$(daemon_log hup)" | head -3)
  if [[ -z $leaks ]]; then ok "debug log: no secret key, no signature"; else bad "debug log: no secret key, no signature" "$leaks"; fi
fi

# ==== journald: the structured fields (SPEC 7) =======================================================
# The daemon logs to journald when stderr is the stream systemd gave it
# (JOURNAL_STREAM = its device:inode). It runs in a private mount namespace
# whose /run/systemd/journal/socket is journal_listener.py, which decodes the
# native protocol that sd_journal_send() speaks; the host's /run is untouched.
if ! unshare_err=$(unshare -m --propagation private true 2>&1); then
  echo "  SKIP journald: no private mount namespace here (unshare -m: $unshare_err)"
else
  OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-journal)
  export OWLS_WORK_QUEUE_URL
  conf_write "$W/jr.conf"
  mkdir -p "$W/jr"
  : >"$W/jr/log"
  E2E_MAIN=jr
  E2E_WRAP=(unshare -m --propagation private bash "$E2E_LIB/journal_ns.sh" "$W/jr/journal.jsonl"
    "$W/jr/journal.pid" --)
  daemon_start jr "$W/jr.conf" JOURNAL_STREAM="$(stat -c %d:%i "$W/jr/log")"
  jr_started=$?
  # the listener outlives the daemon: stopped by its PID at exit, like every helper
  [[ -s $W/jr/journal.pid ]] && E2E_BG_PIDS+=("$(cat "$W/jr/journal.pid")")
  if ((jr_started == 0)); then
    q4check gen 200 "$W/jr.csv" --seed 57
    submit_run e2e-jr-ok "$W/jr.csv"
    ok_key=$KEY ok_msg=$MSGID
    printf 'a,b\n1,2\n3\n' >"$W/jr-bad.csv"
    submit_run e2e-jr-bad "$W/jr-bad.csv"
    bad_key=$KEY bad_msg=$MSGID
    owlsq wait-done --timeout 60 --run e2e-jr-ok >/dev/null || bad "journald: a job succeeds" "$(cat "$W/jr/log")"
    owlsq wait-done --timeout 60 --run e2e-jr-bad >/dev/null || bad "journald: a job fails" "$(cat "$W/jr/log")"
    daemon_stop jr
    check "journald: exit 0 on SIGTERM" "${E2E_DRC[jr]:-none}" 0
    check "journald: nothing written to stderr" "$(head -c 300 "$W/jr/log")" ""
    if out=$(python3 - "$W/jr/journal.jsonl" "$ok_key" "$ok_msg" "$bad_key" "$bad_msg" "$DAEMON_SK" <<'EOF'
import json, sys
path, ok_key, ok_msg, bad_key, bad_msg, secret = sys.argv[1:]
entries = [json.loads(l) for l in open(path)]
bad = []
for e in entries:
    if "_PROTOCOL_ERROR" in e:
        bad.append("malformed datagram: " + e["_PROTOCOL_ERROR"])
    elif (not e.get("MESSAGE") or e.get("SYSLOG_IDENTIFIER") != "owls-q4d"
          or e.get("PRIORITY") not in list("01234567")):
        bad.append("entry without MESSAGE, SYSLOG_IDENTIFIER=owls-q4d or PRIORITY 0..7: %s" % e)
    elif " run_id=" in e["MESSAGE"] or " work_message_id=" in e["MESSAGE"]:
        bad.append("the stderr suffix in MESSAGE instead of fields: %s" % e)
    elif e.get("CODE_FILE", "").endswith("log.c"):
        bad.append("CODE_FILE names the logger, not the call site: %s" % e)
    for k, v in e.items():
        if secret in v or "Signature=" in v or "AWS4-HMAC-SHA256 Credential" in v:
            bad.append("a secret or signature in field %s" % k)
ok_fields = {"RUN_ID": "e2e-jr-ok", "INPUT_KEY": ok_key, "WORK_MESSAGE_ID": ok_msg, "RECEIVE_COUNT": "1"}
oks = [e for e in entries if all(e.get(k) == v for k, v in ok_fields.items())]
if not oks:
    bad.append("no entry with %s" % ok_fields)
elif any("ERROR_CODE" in e for e in oks):
    bad.append("ERROR_CODE on the succeeded job's entries")
bad_fields = {"RUN_ID": "e2e-jr-bad", "INPUT_KEY": bad_key, "WORK_MESSAGE_ID": bad_msg, "ERROR_CODE": "bad_csv"}
fails = [e for e in entries if all(e.get(k) == v for k, v in bad_fields.items())]
if not fails:
    bad.append("no entry with %s" % bad_fields)
elif not any(int(e["PRIORITY"]) <= 4 for e in fails):
    bad.append("the failed job is logged below warning priority: %s" % fails)
if not any("RUN_ID" not in e for e in entries):
    bad.append("no entry outside a job (start-up, stop)")
print("%d entries, %d with the succeeded job's fields, %d with ERROR_CODE=bad_csv; e.g. %s"
      % (len(entries), len(oks), len(fails), json.dumps(fails[0] if fails else None)))
for b in bad[:10]:
    print("PROBLEM " + b)
sys.exit(1 if bad else 0)
EOF
    ); then
      ok "journald: RUN_ID, INPUT_KEY, WORK_MESSAGE_ID, RECEIVE_COUNT, ERROR_CODE, PRIORITY as fields; no secret"
      echo "    ($out)"
    else
      bad "journald: the structured fields" "$out"
    fi
  fi
  # shellcheck disable=SC2034 # read by daemon_start
  E2E_WRAP=()
fi

# ==== SIGTERM while idle ================================================================================
# every request goes through a (fast) proxy, so the test can see the long poll in flight
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-idle)
export OWLS_WORK_QUEUE_URL
proxy_start idlegate "$E2E_MOTO_PORT" 0
IDLE_PROXY=$PROXY_PID
P=http://127.0.0.1:$PROXY_PORT
conf_write "$W/idle.conf" aws.endpoint_url="$P" sqs.wait_time_seconds=20 \
  sqs.work_queue_url="$P/${OWLS_WORK_QUEUE_URL#http://*/}" sqs.done_queue_url="$P/${OWLS_DONE_QUEUE_URL#http://*/}"
E2E_MAIN=idle
if daemon_start idle "$W/idle.conf"; then
  if wait_until 30 proxy_has_open idlegate 'ReceiveMessage' 2; then
    ok "idle: a ReceiveMessage long poll has been in flight for 2 s"
    daemon_signal idle TERM
    if daemon_wait_exit idle 25; then
      if ((E2E_EXIT_MS < 2000)); then ok "idle: SIGTERM -> exit in $E2E_EXIT_MS ms (< 2 s)"; else
        bad "idle: SIGTERM -> exit in under 2 s" "took $E2E_EXIT_MS ms" "$(log_excerpt idle)"
      fi
      check "idle: exit status 0" "${E2E_DRC[idle]}" 0
    else
      bad "idle: exit after SIGTERM" "still running after 25 s" "$(log_excerpt idle)"
      daemon_stop idle 5
    fi
  else
    bad "idle: test set-up: see the long poll in the proxy" "$(tail -5 "$W/idlegate.events")"
    daemon_stop idle
  fi
fi
bg_stop "$IDLE_PROXY"

# ==== SIGTERM while busy ===================================================================================
# 6 jobs, 2 workers, S3 slowed to 100 kB/s (two downloads of 300 kB share it: ~6 s a job)
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-term --visibility 60)
export OWLS_WORK_QUEUE_URL
proxy_start slows3 "$E2E_MOTO_PORT" 100000
SLOW_PROXY=$PROXY_PID
GRACE=30
conf_write "$W/term.conf" worker.threads=2 worker.shutdown_grace_seconds=$GRACE
E2E_MAIN=busy
send_batch term 6 10500 3000
if daemon_start busy "$W/term.conf" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PROXY_PORT"; then
  # two input downloads in flight for a second: two jobs are running
  if wait_until 60 proxy_has_open slows3 "^GET_/$OWLS_ARCHIVE_BUCKET/" 1 2; then
    running=$(for c in $(proxy_open slows3 "^GET_/$OWLS_ARCHIVE_BUCKET/" 0); do
      awk -v c="$c" '$2 == "open" && $3 == c { print $4 }' "$W/slows3.events"
    done | grep -o 'term-[0-9]*' | sort -u)
    running=$(tr '\n' ' ' <<<"$running" | sed 's/ *$//')
    echo "    (running at SIGTERM: $running)"
    daemon_signal busy TERM
    if daemon_wait_exit busy $((GRACE + 15)); then
      check "busy: exit status 0" "${E2E_DRC[busy]}" 0
      if ((E2E_EXIT_MS <= GRACE * 1000)); then ok "busy: exited within the grace period ($E2E_EXIT_MS ms)"; else
        bad "busy: exit within the ${GRACE} s grace period" "took $E2E_EXIT_MS ms"
      fi
      counts=$(owlsq counts work)
      done_runs=$(while IFS=$'\t' read -r run _; do
        owlsq exists "run=$run/MANIFEST.json" && echo "$run"
      done <"$W/term.table")
      ndone=$(grep -c . <<<"$done_runs")
      check "busy: after exit, unstarted messages visible again at once, none in flight" \
        "$counts" "$((6 - ndone)) 0"
      missing=()
      for r in $running; do grep -qx "$r" <<<"$done_runs" || missing+=("$r"); done
      if [[ -z $running ]]; then bad "busy: test set-up: identify the running jobs from the proxy"
      elif ((${#missing[@]})); then bad "busy: the jobs running at SIGTERM finished" "no MANIFEST for: ${missing[*]}" "$(log_excerpt busy)"
      else ok "busy: the jobs running at SIGTERM finished ($running)"; fi
      partial=()
      while IFS=$'\t' read -r run _; do
        n=$(owlsq list "run=$run/" | wc -l)
        ((n == 0 || n == 5)) || partial+=("$run: $n objects")
      done <"$W/term.table"
      if ((${#partial[@]})); then bad "busy: no half-written run" "${partial[@]}"; else
        ok "busy: every run has all five artifacts or nothing"
      fi
      if notify_has busy '^STOPPING=1$'; then ok "busy: STOPPING=1 sent"; else
        bad "busy: STOPPING=1 sent" "$(notify_lines busy | sort | uniq -c)"
      fi
    else
      bad "busy: exit after SIGTERM within grace + 15 s" "$(log_excerpt busy)"
      daemon_stop busy 5
    fi
  else
    bad "busy: test set-up: two input downloads in flight" "$(tail -5 "$W/slows3.events")" "$(log_excerpt busy)"
    daemon_stop busy
  fi
  # nothing lost: a fresh daemon finishes the rest
  E2E_MAIN=busy2
  if daemon_start busy2 "$W/term.conf"; then
    wait_batch "busy: after a restart every job has its notification" term 120
    verify_batch "busy: after a restart every run complete and correct" term
    queue_is "busy: work queue empty at the end" work "0 0" 20
    daemon_stop busy2
  fi
fi
bg_stop "$SLOW_PROXY"

# ==== SIGTERM while busy, the grace period runs out =================================================
# one job slowed to ~15 s (300 kB at 20 kB/s), shutdown_grace_seconds = 2: abandoned with a
# warning, its message visible again at once, exit 0 (SPEC 6), and a later daemon completes it
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-grace --visibility 60)
export OWLS_WORK_QUEUE_URL
proxy_start crawls3 "$E2E_MOTO_PORT" 20000
CRAWL_PROXY=$PROXY_PID
conf_write "$W/grace.conf" worker.threads=1 worker.shutdown_grace_seconds=2
E2E_MAIN=grace
send_batch grace 1 10500 4000
if daemon_start grace "$W/grace.conf" AWS_ENDPOINT_URL_S3="http://127.0.0.1:$PROXY_PORT"; then
  if wait_until 60 proxy_has_open crawls3 "^GET_/$OWLS_ARCHIVE_BUCKET/" 1; then
    lines0=$(wc -l <"$(daemon_log grace)")
    daemon_signal grace TERM
    if daemon_wait_exit grace 20; then
      counts=$(owlsq counts work)
      check "grace over: exit status 0" "${E2E_DRC[grace]}" 0
      if ((E2E_EXIT_MS <= 2000 + 5000)); then ok "grace over: exited $E2E_EXIT_MS ms after SIGTERM (grace 2 s)"; else
        bad "grace over: exit soon after the 2 s grace period" "took $E2E_EXIT_MS ms" "$(log_excerpt grace)"
      fi
      check "grace over: the abandoned job's message is visible again at once" "$counts" "1 0"
      if tail -n +"$((lines0 + 1))" "$(daemon_log grace)" | grep -qiE 'warn'; then
        ok "grace over: a warning is logged"
      else bad "grace over: a warning is logged" "$(log_excerpt grace)"; fi
      check "grace over: no MANIFEST, no notification for the abandoned run" \
        "$(owlsq exists run=grace-001/MANIFEST.json && echo manifest) $(owlsq notes --run grace-001 | jq length)" " 0"
    else
      bad "grace over: exit after SIGTERM" "still running 20 s later" "$(log_excerpt grace)"
      daemon_stop grace 5
    fi
  else
    bad "grace over: test set-up: the input download in flight" "$(tail -5 "$W/crawls3.events")"
    daemon_stop grace
  fi
  E2E_MAIN=grace2
  if daemon_start grace2 "$W/grace.conf"; then
    wait_batch "grace over: a later daemon completes the abandoned job" grace 60
    verify_batch "grace over: the abandoned run, completed later, is correct" grace
    daemon_stop grace2
  fi
fi
bg_stop "$CRAWL_PROXY"

# ==== emulator outage ================================================================================
OWLS_WORK_QUEUE_URL=$MOTO_WORK_URL # moto-up.sh's queue: the one a restarted moto re-creates
export OWLS_WORK_QUEUE_URL
conf_write "$W/out.conf" worker.threads=2
E2E_MAIN=out
if daemon_start out "$W/out.conf"; then
  q4check gen 300 "$W/out1.csv" --seed 61
  submit_run e2e-out1 "$W/out1.csv"
  if owlsq wait-done --timeout 60 --run e2e-out1 >/dev/null; then ok "outage: a job before the outage"; else
    bad "outage: a job before the outage" "$(log_excerpt out)"
  fi
  lines0=$(wc -l <"$(daemon_log out)")
  e2e_moto_down
  ticks0=$(daemon_cpu_ticks out)
  sleep 20 # the outage: its length is what is measured, no event ends it
  ticks1=$(daemon_cpu_ticks out)
  hz=$(getconf CLK_TCK)
  cpu_ms=$(((ticks1 - ticks0) * 1000 / hz))
  loglines=$(($(wc -l <"$(daemon_log out)") - lines0))
  echo "    (during the 20 s outage: ${cpu_ms} ms of CPU, $loglines log lines)"
  if daemon_alive out; then ok "outage: daemon still running"; else bad "outage: daemon still running" "$(log_excerpt out)"; fi
  if ((cpu_ms < 500)); then ok "outage: no busy loop (${cpu_ms} ms CPU in 20 s, < 500)"; else
    bad "outage: no busy loop" "${cpu_ms} ms CPU in 20 s" "$(log_excerpt out)"
  fi
  if ((loglines <= 100)); then ok "outage: the log is not flooded ($loglines lines in 20 s)"; else
    bad "outage: the log is not flooded [operator expectation]" "$loglines lines in 20 s" "$(log_excerpt out)"
  fi
  if e2e_moto_restart; then
    ok "outage: moto restarted with the same resources and keys"
    q4check gen 300 "$W/out2.csv" --seed 62
    submit_run e2e-out2 "$W/out2.csv"
    KOUT2=$KEY ETOUT2=$ETAG
    pid_before=${E2E_DPID[out]}
    if owlsq wait-done --timeout 120 --run e2e-out2 >/dev/null; then
      ok "outage: the same daemon (pid $pid_before) serves again without a restart"
      check_run "outage: the job after the outage is complete and correct" e2e-out2 "$W/out2.csv" "$KOUT2" "$ETOUT2"
    else
      bad "outage: the daemon serves again after the outage (120 s)" "$(log_excerpt out)"
    fi
  else
    bad "outage: moto restarted with the same keys (test set-up)" "$(tail -5 "$W/moto-up.log")"
  fi
  daemon_stop out
  check "outage: exit 0 on SIGTERM" "${E2E_DRC[out]:-none}" 0
fi
e2e_finish
