# shellcheck shell=bash
# shellcheck disable=SC2034 # ETAG, MSGID, PROXY_PORT, ... are this library's outputs
# tests/integration/lib/e2e.sh -- shared bash of the daemon's end-to-end tests
# (tests/integration/test_daemon_*.sh; test_aws_client.sh and test_cli_aws.sh
# use its accounting and moto too). Source it, then call e2e_init NAME.
#
# What it gives a test script:
#   * accounting: ok NAME, bad NAME DETAIL..., check NAME GOT WANT, e2e_finish
#   * one moto per script (e2e_moto_up [--seeded]; e2e_moto_down; e2e_moto_restart),
#     with signature and IAM checks on; the daemon always runs with the
#     restricted data-plane user of moto-up.sh (SPEC section 1), the test's
#     own AWS calls (owlsq, awsadmin) use the admin user
#   * conf_write FILE [section.key=value...]: a daemon configuration for this moto
#   * daemons by name: daemon_start NAME CONF [VAR=value...] (waits for READY=1
#     on its own NOTIFY_SOCKET listener), daemon_stop, daemon_signal,
#     daemon_wait_exit, daemon_kill9, daemon_alive, daemon_log, daemon_cpu_ticks
#   * bg_start NAME CMD... for helpers (proxies, listeners, consumers); every
#     process started here is stopped by its PID at exit, never by name
#   * submit_run RUN FILE [NAME]: upload + job message; verify_run RUN FILE KEY ETAG
#
# Environment: OWLS_BUILD (default build) or OWLS_Q4D (the daemon binary);
# E2E_KEEP=1 keeps the work directory (logs, downloads) for a post-mortem.
# Needs python3 with boto3+moto (PATH), /usr/bin/python3 with numpy, the aws
# CLI, curl, jq.

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_LIB/../../.." && pwd)
BUILD=${OWLS_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
OWLSD=${OWLS_Q4D:-$BUILD/owls-q4d}
OWLS_VERSION=$(cat "$ROOT/VERSION" 2>/dev/null || echo "")
DPY=/usr/bin/python3 # Debian's, with numpy (q4check.py)

E2E_PASS=0
E2E_FAIL=0
E2E_FAILED=()
E2E_BG_PIDS=()
declare -A E2E_DPID E2E_DRC

owlsq() { python3 "$E2E_LIB/owlsq.py" "$@"; }
q4check() { "$DPY" "$E2E_LIB/q4check.py" "$@"; }
# the real aws CLI, as the admin (awscli v1 ignores AWS_ENDPOINT_URL)
awsadmin() {
  AWS_ACCESS_KEY_ID=$MOTO_ADMIN_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_ADMIN_SECRET_ACCESS_KEY \
    AWS_SESSION_TOKEN='' aws --endpoint-url "$MOTO_ENDPOINT" --region us-east-1 "$@"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- accounting -----------------------------------------------------------------
e2e_elapsed() { printf '%4ds' $((SECONDS - E2E_T0)); }
ok() {
  E2E_PASS=$((E2E_PASS + 1))
  printf 'ok   %s %s\n' "$(e2e_elapsed)" "$1"
}
# bad NAME [DETAIL...]: each DETAIL (may be multi-line) is printed indented
bad() {
  local name=$1 d
  shift
  E2E_FAIL=$((E2E_FAIL + 1))
  E2E_FAILED+=("$name")
  printf 'FAIL %s %s\n' "$(e2e_elapsed)" "$name"
  for d in "$@"; do printf '%s\n' "$d" | sed 's/^/    /'; done
}
check() { # check NAME GOT WANT
  if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1" "got:  $2" "want: $3"; fi
}
e2e_finish() {
  echo "$E2E_NAME: $E2E_PASS passed, $E2E_FAIL failed"
  if ((E2E_FAIL)); then
    printf '  failed: %s\n' "${E2E_FAILED[@]}"
    exit 1
  fi
  exit 0
}

# --- set-up and tear-down ---------------------------------------------------------
# e2e_init NAME [--no-daemon]: accounting, $W, clean-up at exit; the daemon
# binary must exist unless --no-daemon (a script that tests other binaries)
e2e_init() {
  E2E_NAME=$1
  E2E_T0=$SECONDS
  if [[ ${2:-} != --no-daemon && ! -x $OWLSD ]]; then
    echo "$E2E_NAME: no daemon binary at $OWLSD (make BUILD=... \$BUILD/owls-q4d)" >&2
    exit 2
  fi
  W=$(mktemp -d "${TMPDIR:-/tmp}/owls-e2e-$E2E_NAME.XXXXXX")
  export E2E_DONE_LOG=$W/done.jsonl
  : >"$E2E_DONE_LOG"
  trap e2e_cleanup EXIT
  echo "$E2E_NAME: work directory $W"
}

e2e_cleanup() {
  local n p
  for n in "${!E2E_DPID[@]}"; do
    p=${E2E_DPID[$n]}
    if proc_alive "$p"; then
      kill -KILL "$p" 2>/dev/null
      echo "$E2E_NAME: cleanup: daemon $n (pid $p) was still running; killed" >&2
    fi
  done
  for p in "${E2E_BG_PIDS[@]}"; do
    proc_alive "$p" && kill -TERM "$p" 2>/dev/null
  done
  [[ -n ${W:-} && -d $W/moto ]] && "$ROOT/tests/integration/moto/moto-down.sh" "$W/moto" 2>/dev/null
  if [[ ${E2E_KEEP:-0} == 1 ]]; then
    echo "$E2E_NAME: kept $W" >&2
  else
    [[ -n ${W:-} ]] && rm -rf "$W"
  fi
}

# proc_alive PID: running and not a zombie (a dead child stays a zombie until waited for)
proc_alive() {
  local st
  [[ -r /proc/$1/stat ]] || return 1
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n $st && $st != Z && $st != X ]]
}

# wait_until TIMEOUT_S CMD...: poll CMD every 0.1 s; 1 on timeout (a guard only)
wait_until() {
  local deadline=$(($(now_ms) + ${1%.*} * 1000))
  shift
  until "$@"; do
    (($(now_ms) > deadline)) && return 1
    sleep "${E2E_POLL:-0.1}"
  done
}

# bg_start NAME CMD...: a helper process in the background, output to $W/NAME.out;
# sets BG_PID; stopped by PID at exit
bg_start() {
  local name=$1
  shift
  "$@" >"$W/$name.out" 2>&1 &
  BG_PID=$!
  E2E_BG_PIDS+=("$BG_PID")
}
bg_stop() { # bg_stop PID
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# --- moto -------------------------------------------------------------------------
# e2e_moto_up [--seeded]: start this script's moto (--seeded: its IAM keys are
# reproducible, so e2e_moto_restart hands the running daemon the same keys back)
e2e_moto_up() {
  local -a envs=()
  if [[ ${1:-} == --seeded ]]; then
    envs=(MOTO_PYTHON="$E2E_LIB/moto-python" E2E_MOTO_SEED="${E2E_MOTO_SEED:-4242}")
    E2E_MOTO_SEEDED=1
  fi
  if ! env "${envs[@]}" "$ROOT/tests/integration/moto/moto-up.sh" "${E2E_MOTO_PORT:-0}" "$W/moto" \
    >"$W/moto-env.out" 2>"$W/moto-up.log"; then
    cat "$W/moto-up.log" >&2
    echo "$E2E_NAME: moto did not start" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  source "$W/moto/env.sh"
  export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS
  E2E_MOTO_PORT=$(cat "$W/moto/moto.port")
  # the daemon's credentials: the restricted data-plane user (SPEC section 1)
  DAEMON_AK=$AWS_ACCESS_KEY_ID
  DAEMON_SK=$AWS_SECRET_ACCESS_KEY
  if owlsq can-admin; then
    bad "precondition: the daemon's keys are data-plane only" "they may create an SQS queue"
  else
    ok "precondition: the daemon runs as the restricted data-plane IAM user (control plane denied)"
  fi
}
e2e_moto_down() { "$ROOT/tests/integration/moto/moto-down.sh" "$W/moto" 2>>"$W/moto-up.log"; }
# Same port, same resources, same (seeded) keys; moto's objects and messages are gone.
e2e_moto_restart() {
  local -a envs=()
  [[ ${E2E_MOTO_SEEDED:-0} == 1 ]] &&
    envs=(MOTO_PYTHON="$E2E_LIB/moto-python" E2E_MOTO_SEED="${E2E_MOTO_SEED:-4242}")
  env "${envs[@]}" "$ROOT/tests/integration/moto/moto-up.sh" "$E2E_MOTO_PORT" "$W/moto" \
    >"$W/moto-env2.out" 2>>"$W/moto-up.log" || return 1
  grep -q "AWS_ACCESS_KEY_ID='$DAEMON_AK'" "$W/moto-env2.out"
}

# --- configuration ------------------------------------------------------------------
# conf_write FILE [section.key=value ...]: every key of SPEC section 7, pointed
# at this moto; arguments override (a value of "-" leaves the key out).
conf_write() {
  local file=$1 kv k
  shift
  local -A v=(
    [aws.region]=us-east-1 [aws.endpoint_url]=$MOTO_ENDPOINT
    [s3.archive_bucket]=$OWLS_ARCHIVE_BUCKET [s3.artifacts_bucket]=$OWLS_ARTIFACTS_BUCKET
    [s3.addressing]=path
    [sqs.work_queue_url]=$OWLS_WORK_QUEUE_URL [sqs.done_queue_url]=$OWLS_DONE_QUEUE_URL
    [sqs.wait_time_seconds]=20 [sqs.max_messages]=10 [sqs.visibility_timeout]=60
    [worker.threads]=2 [worker.max_input_bytes]=0 [worker.shutdown_grace_seconds]=30
    [log.level]=info
  )
  for kv in "$@"; do v[${kv%%=*}]=${kv#*=}; done
  {
    echo "# written by $E2E_NAME (tests/integration/lib/e2e.sh)"
    for sec in aws s3 sqs worker log; do
      echo "[$sec]"
      for k in region endpoint_url archive_bucket artifacts_bucket addressing work_queue_url \
        done_queue_url wait_time_seconds max_messages visibility_timeout threads \
        max_input_bytes shutdown_grace_seconds level; do
        [[ -v v[$sec.$k] && ${v[$sec.$k]} != - ]] && echo "$k = ${v[$sec.$k]}"
      done
    done
  } >"$file"
}

# --- daemons --------------------------------------------------------------------------
# daemon_start NAME CONF [VAR=value ...]: run the daemon in the foreground of a
# background job, stderr to $W/NAME/log, its own NOTIFY_SOCKET listener
# ($W/NAME/notify.jsonl), TMPDIR $W/NAME/tmp, an empty HOME, only the
# restricted keys. Waits for READY=1 (E2E_READY_TIMEOUT, default 30 s);
# returns 1 (after reporting a failure) if it dies or never gets ready.
# E2E_NO_READY_WAIT=1 returns at once. E2E_WRAP=(CMD ARG...) runs the daemon
# as CMD ARG... owls-q4d -c CONF, where CMD must exec it (same PID).
daemon_start() {
  local name=$1 conf=$2 d=$W/$1
  shift 2
  mkdir -p "$d/tmp" "$d/home"
  rm -f "$d/notify.sock"
  "$DPY" "$E2E_LIB/notify_listener.py" "$d/notify.sock" "$d/notify.jsonl" 2>"$d/notify.err" &
  E2E_BG_PIDS+=("$!")
  wait_until 10 test -S "$d/notify.sock" || {
    bad "$name: notify listener did not start"
    return 1
  }
  rm -f "$d/pid" "$d/rc"
  # a supervising subshell records the exit status in $d/rc (and keeps bash's
  # "Killed" job notices out of the test output)
  (
    exec 2>/dev/null
    env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_ENDPOINT_URL_SQS -u AWS_PROFILE \
      -u AWS_SESSION_TOKEN -u AWS_DEFAULT_REGION -u AWS_REGION -u JOURNAL_STREAM -u STATE_DIRECTORY \
      -u WATCHDOG_USEC -u WATCHDOG_PID -u MOTO_ADMIN_ACCESS_KEY_ID -u MOTO_ADMIN_SECRET_ACCESS_KEY \
      -u AWS_SHARED_CREDENTIALS_FILE -u AWS_CONFIG_FILE \
      HOME="$d/home" TMPDIR="$d/tmp" AWS_EC2_METADATA_DISABLED=true \
      AWS_ACCESS_KEY_ID="$DAEMON_AK" AWS_SECRET_ACCESS_KEY="$DAEMON_SK" \
      NOTIFY_SOCKET="$d/notify.sock" "$@" \
      ${E2E_WRAP[@]+"${E2E_WRAP[@]}"} "$OWLSD" -c "$conf" </dev/null >>"$d/stdout" 2>>"$d/log" &
    echo "$!" >"$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"
    wait "$!"
    echo "$?" >"$d/rc.tmp" && mv "$d/rc.tmp" "$d/rc"
  ) &
  E2E_BG_PIDS+=("$!")
  wait_until 10 test -s "$d/pid" || {
    bad "$name: could not start $OWLSD"
    return 1
  }
  E2E_DPID[$name]=$(cat "$d/pid")
  [[ ${E2E_NO_READY_WAIT:-0} == 1 ]] && return 0
  if ! wait_until "${E2E_READY_TIMEOUT:-30}" daemon_ready_or_dead "$name"; then
    bad "$name: no READY=1 within ${E2E_READY_TIMEOUT:-30} s" "$(log_excerpt "$name")"
    return 1
  fi
  if ! daemon_alive "$name"; then
    daemon_wait_exit "$name" 1
    bad "$name: exited at start-up (status ${E2E_DRC[$name]})" "$(log_excerpt "$name")"
    return 1
  fi
  return 0
}
# notify_lines NAME: every VAR=value line the daemon sent to its NOTIFY_SOCKET
notify_lines() { jq -r '.msg | split("\n")[]' "$W/$1/notify.jsonl" 2>/dev/null; }
notify_has() { notify_lines "$1" | grep -qE "$2"; } # notify_has NAME REGEX
daemon_ready_or_dead() { notify_has "$1" '^READY=1$' || ! daemon_alive "$1"; }
daemon_pid() { echo "${E2E_DPID[$1]}"; }
daemon_alive() { [[ -n ${E2E_DPID[$1]:-} ]] && proc_alive "${E2E_DPID[$1]}"; }
daemon_log() { echo "$W/$1/log"; }
daemon_signal() { kill -"$2" "${E2E_DPID[$1]}"; }
# daemon_wait_exit NAME TIMEOUT_S: wait for the exit; sets E2E_DRC[NAME] and
# E2E_EXIT_MS (ms from the call); 1 on timeout (process left running)
daemon_wait_exit() {
  local t0
  t0=$(now_ms)
  if ! E2E_POLL=0.02 wait_until "$2" test -e "$W/$1/rc"; then
    E2E_EXIT_MS=$(($(now_ms) - t0))
    return 1
  fi
  E2E_EXIT_MS=$(($(now_ms) - t0))
  E2E_DRC[$1]=$(cat "$W/$1/rc")
  return 0
}
# daemon_stop NAME [TIMEOUT_S]: SIGTERM and wait; SIGKILL (and a failure) if it hangs
daemon_stop() {
  local name=$1 t=${2:-45}
  daemon_alive "$name" || {
    daemon_wait_exit "$name" 1
    return 0
  }
  daemon_signal "$name" TERM
  if ! daemon_wait_exit "$name" "$t"; then
    kill -KILL "${E2E_DPID[$name]}" 2>/dev/null
    daemon_wait_exit "$name" 5
    bad "$name: still running ${t} s after SIGTERM; killed" "$(log_excerpt "$name")"
    return 1
  fi
}
daemon_kill9() {
  kill -KILL "${E2E_DPID[$1]}"
  daemon_wait_exit "$1" 10
}
# utime + stime of the daemon, in clock ticks (getconf CLK_TCK per second)
daemon_cpu_ticks() { sed 's/.*) //' "/proc/${E2E_DPID[$1]}/stat" | awk '{print $12 + $13}'; }
# log_excerpt NAME [REGEX]: the last 25 (matching) lines of the daemon's log
log_excerpt() {
  local f=$W/$1/log
  [[ -f $f ]] || return 0
  echo "--- $1 log${2:+ (lines matching $2)}:"
  if [[ -n ${2:-} ]]; then grep -aE -- "$2" "$f" | tail -25; else tail -25 "$f"; fi
}

# --- jobs -------------------------------------------------------------------------------
# job_body KEY [RUN_ID]: the SPEC section 2 job JSON
job_body() {
  if [[ -n ${2:-} ]]; then
    jq -cn --arg k "$1" --arg r "$2" '{input_key: $k, run_id: $r}'
  else
    jq -cn --arg k "$1" '{input_key: $k}'
  fi
}
# submit_run RUN FILE [NAME]: upload FILE to run=RUN/input/NAME (default its
# basename) and send the job; sets KEY, ETAG, MSGID
submit_run() {
  KEY="run=$1/input/${3:-$(basename "$2")}"
  ETAG=$(owlsq put "$2" "$KEY") || return 1
  MSGID=$(owlsq send --body "$(job_body "$KEY" "$1")") || return 1
}
# verify_run RUN FILE KEY ETAG [--redelivered] [q4check options...]: fetch the run's
# objects and its notifications (already collected) and run q4check; prints the
# problems. Every succeeded notification is checked; "duplicate": true is an error
# unless --redelivered (a job whose message came back after its MANIFEST was stored:
# SPEC 5 then wants "duplicate": true, so the run may have only such notifications).
verify_run() {
  local run=$1 file=$2 key=$3 etag=$4 d=$W/runs/$1 i=0 redelivered=0 n rc=0
  local -a plain=() dups=()
  shift 4
  [[ ${1:-} == --redelivered ]] && redelivered=1 && shift
  rm -rf "$d"
  mkdir -p "$d"
  owlsq fetch-run "$run" "$d" || {
    echo "fetch-run $run failed"
    return 1
  }
  owlsq notes --run "$run" >"$d/_notes.json"
  while read -r n; do
    i=$((i + 1))
    printf '%s\n' "$n" >"$d/_note$i.json"
    if ((redelivered)) && [[ $(jq .duplicate <<<"$n") == true ]]; then
      dups+=(--notification "$d/_note$i.json")
    else
      plain+=(--notification "$d/_note$i.json")
    fi
  done < <(jq -c '.[] | select(.status == "succeeded")' "$d/_notes.json")
  ((i)) || echo "no succeeded notification for run $run"
  local -a common=(--dir "$d" --run-id "$run" --input "$file" --input-key "$key"
    --input-bucket "$OWLS_ARCHIVE_BUCKET" --etag "$etag" --listing "$d/_listing.json"
    ${OWLS_VERSION:+--version "$OWLS_VERSION"})
  q4check run "${common[@]}" "${plain[@]}" "$@" || rc=1
  if ((${#dups[@]})); then
    q4check run "${common[@]}" "${dups[@]}" --duplicate "$@" | sed 's/^/(duplicate notification) /'
    ((PIPESTATUS[0] == 0)) || rc=1
  fi
  ((i)) || return 1
  return $rc
}
# check_run NAME RUN FILE KEY ETAG [q4check options]: verify_run as one named check
check_run() {
  local name=$1 out
  shift
  if out=$(verify_run "$@" 2>&1); then ok "$name"; else bad "$name" "$out" "$(log_excerpt "${E2E_MAIN:-main}" "run_id=$1( |$)")"; fi
}
# queue_is NAME QUEUE "VISIBLE INFLIGHT" [TIMEOUT]: a named check that the queue reaches the counts
queue_is() {
  local got
  if got=$(owlsq wait-counts "$2" "${3% *}" "${3#* }" --timeout "${4:-20}"); then ok "$1"; else
    bad "$1" "ApproximateNumberOfMessages/NotVisible of $2: $got, want $3"
  fi
}

# --- proxies (lib/tcp_proxy.py) ----------------------------------------------------------
# proxy_start NAME UPSTREAM_PORT [BYTES_PER_S] [LISTEN_PORT]: a loopback proxy to
# 127.0.0.1:UPSTREAM_PORT; sets PROXY_PORT and PROXY_PID; events in $W/NAME.events;
# faults (lines "STATUS CODE REGEX", see tcp_proxy.py) are read from $W/NAME.faults
proxy_start() {
  local name=$1
  rm -f "$W/$name.port"
  bg_start "$name" python3 "$E2E_LIB/tcp_proxy.py" --upstream "127.0.0.1:$2" --port-file "$W/$name.port" \
    --down-rate "${3:-0}" --listen-port "${4:-0}" --events "$W/$name.events" --faults "$W/$name.faults"
  PROXY_PID=$BG_PID
  if ! wait_until 10 test -s "$W/$name.port"; then
    bad "proxy $name did not start" "$(cat "$W/$name.out")"
    return 1
  fi
  PROXY_PORT=$(cat "$W/$name.port")
}
# proxy_open NAME TAG_REGEX MIN_AGE_S: prints the ids of connections whose request tag
# matches and that have been open (no close yet) for at least MIN_AGE_S seconds
proxy_open() {
  awk -v re="$2" -v now="$(date +%s.%N)" -v age="$3" '
    $2 == "open" && $4 ~ re { t[$3] = $1 }
    $2 == "close" { delete t[$3] }
    END { for (c in t) if (now - t[c] >= age) print c }' "$W/$1.events" 2>/dev/null
}
# proxy_faults NAME REGEX: how many requests matching REGEX the proxy answered with a fault
proxy_faults() { awk -v re="$2" '$2 == "fault" && $5 ~ re { n++ } END { print n + 0 }' "$W/$1.events" 2>/dev/null; }
# proxy_has_open NAME TAG_REGEX MIN_AGE_S [COUNT]: at least COUNT (default 1) such connections
proxy_has_open() { (($(proxy_open "$1" "$2" "$3" | wc -l) >= ${4:-1})); }
# a free loopback TCP port (nothing listens on it right now)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- batches of jobs -----------------------------------------------------------------------
# send_batch PREFIX COUNT ROWS SEED: COUNT inputs uploaded as run=PREFIX-NNN/input/in-NNNN.csv and
# COUNT job messages; writes $W/PREFIX.table (RUN FILE KEY ETAG) and $W/PREFIX.ids (RUN MSGID)
send_batch() {
  local prefix=$1 count=$2 rows=$3 seed=$4 i run f key etag
  q4check gen-many "$W/$prefix-in" "$count" "$rows" --seed "$seed"
  : >"$W/$prefix.table"
  : >"$W/$prefix.jobs"
  for ((i = 1; i <= count; i++)); do
    run=$(printf '%s-%03d' "$prefix" "$i")
    f=$(printf '%s/%s-in/in-%04d.csv' "$W" "$prefix" "$i")
    key="run=$run/input/$(basename "$f")"
    printf '%s\t%s\t%s\n' "$run" "$f" "$key" >>"$W/$prefix.table.tmp"
    printf '%s\t%s\n' "$run" "$(job_body "$key" "$run")" >>"$W/$prefix.jobs"
  done
  # upload all inputs first (one python process), then send in batches of 10
  owlsq put-many "$W/$prefix.table.tmp" >"$W/$prefix.table"
  rm -f "$W/$prefix.table.tmp"
  owlsq send-jobs "$W/$prefix.jobs" >"$W/$prefix.ids"
}
# verify_batch NAME PREFIX: every run of the table complete and correct (q4check run-many)
verify_batch() {
  local out
  rm -rf "$W/$2-runs"
  owlsq fetch-runs "$W/$2.table" "$W/$2-runs"
  if out=$(q4check run-many "$W/$2.table" "$W/$2-runs" --input-bucket "$OWLS_ARCHIVE_BUCKET" \
    ${OWLS_VERSION:+--version "$OWLS_VERSION"} 2>&1); then
    ok "$1"
  else
    bad "$1" "$(head -40 <<<"$out")"
  fi
}
# wait_batch NAME PREFIX TIMEOUT: a notification for every run of the batch
wait_batch() {
  local -a args=()
  local run
  while IFS=$'\t' read -r run _; do args+=(--run "$run"); done <"$W/$2.table"
  if owlsq wait-done --timeout "$3" "${args[@]}" >"$W/$2.wait"; then ok "$1"; else
    bad "$1" "no notification for: $(cat "$W/$2.wait")" "$(log_excerpt "${E2E_MAIN:-main}")"
  fi
}
