#!/usr/bin/env bash
# tests/integration/test_daemon_basic.sh -- owls-q4d from the outside, one
# daemon against one moto (signature + IAM checks on, restricted user):
#   * --check-config: effective configuration, secrets masked, round trip;
#     bad configurations exit 78 naming file, line and key (SPEC 7)
#   * the SPEC example with the real aws CLI: upload, send-message, receive the
#     done notification, the five artifacts against MANIFEST.json (SPEC 2, 4, 5)
#   * job forms: S3 event notifications (URL-encoded keys, several records,
#     non-ObjectCreated records, no run= prefix), s3:TestEvent, run id from
#     the key, Parquet by content (SPEC 2)
#   * every permanent error a message can trigger: error record where SPEC 6
#     says, failed notification, message gone, daemon still serving
#   * idempotency: a re-sent job is a duplicate, a different input for a
#     finished run is run_conflict and leaves the run untouched (SPEC 6)
#
#   make BUILD=build build/owls-q4d && OWLS_BUILD=build tests/integration/test_daemon_basic.sh
# Exit 0 all passed, 1 a failure, 2 no daemon binary. E2E_KEEP=1 keeps $W.
set -uo pipefail
# shellcheck source=lib/e2e.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/e2e.sh"
e2e_init basic
e2e_moto_up
A=$OWLS_ARCHIVE_BUCKET
R=$OWLS_ARTIFACTS_BUCKET
MAX_INPUT=100000 # [worker] max_input_bytes of the daemon under test

# ==== --check-config (SPEC 7) ==========================================================
CC=$W/cc
mkdir -p "$CC"
conf_write "$CC/good.conf" worker.threads=3 sqs.wait_time_seconds=7 worker.max_input_bytes=512M \
  log.level=notice
SECRET='wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLESECRET'
TOKEN='FwoGZXIvYXdzEXAMPLETOKENdGhpcyBpcyBub3QgYSByZWFsIHRva2Vu'
checkcfg() { # checkcfg CONF [VAR=value...]: runs --check-config; stdout/stderr in $CC/out, $CC/err
  local conf=$1
  shift
  env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_ENDPOINT_URL_SQS -u AWS_REGION \
    -u AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID=AKIAE2ETESTKEY12345 AWS_SECRET_ACCESS_KEY="$SECRET" \
    AWS_SESSION_TOKEN="$TOKEN" "$@" "$OWLSD" -c "$conf" --check-config >"$CC/out" 2>"$CC/err"
}
# ini_get FILE SECTION KEY: the value, comments stripped
ini_get() {
  awk -v s="[$2]" -v k="$3" '
    /^[ \t]*\[/ { sec = $0; gsub(/[ \t]/, "", sec); next }
    sec == s && $0 ~ "^[ \t]*" k "[ \t]*=" {
      v = $0; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+#.*$/, "", v); sub(/[ \t]+$/, "", v); print v; exit }' "$1"
}
checkcfg "$CC/good.conf" AWS_REGION=eu-west-3
check "check-config: exit 0" "$?" 0
check "check-config: [worker] threads from the file" "$(ini_get "$CC/out" worker threads)" 3
check "check-config: [sqs] wait_time_seconds from the file" "$(ini_get "$CC/out" sqs wait_time_seconds)" 7
check "check-config: [log] level from the file" "$(ini_get "$CC/out" log level)" notice
check "check-config: [sqs] max_messages default shown" "$(ini_get "$CC/out" sqs max_messages)" 10
check "check-config: AWS_REGION overrides [aws] region" "$(ini_get "$CC/out" aws region)" eu-west-3
if grep -qF -e "$SECRET" -e "$TOKEN" "$CC/out" "$CC/err"; then
  bad "check-config: secrets masked" "$(grep -F -e "$SECRET" -e "$TOKEN" "$CC/out" "$CC/err")"
elif ! grep -q '\*\*\*\*' "$CC/out"; then
  bad "check-config: secrets masked as ****" "no **** in the output:" "$(cat "$CC/out")"
else
  ok "check-config: secret key and session token masked as ****"
fi
# the printed configuration is itself a valid configuration with the same values
cp "$CC/out" "$CC/printed.conf"
checkcfg "$CC/printed.conf" AWS_REGION=eu-west-3
rc=$?
if ((rc == 0)) && diff <(grep -v '^[[:space:]]*#' "$CC/printed.conf" | sed 's/[[:space:]]*#.*//') \
  <(grep -v '^[[:space:]]*#' "$CC/out" | sed 's/[[:space:]]*#.*//') >"$CC/diff"; then
  ok "check-config: its output reads back to the same configuration"
else
  bad "check-config: output round trip" "exit $rc" "$(cat "$CC/err" "$CC/diff")"
fi

out=$("$OWLSD" --version 2>&1)
rc=$?
if ((rc == 0)) && [[ -n $OWLS_VERSION && $out == *"$OWLS_VERSION"* ]]; then ok "--version: exit 0, prints $OWLS_VERSION"; else
  bad "--version: exit 0 and the VERSION file's version" "exit $rc: $out"
fi

# Bad configurations: exit 78, one message naming the file, the line and the key.
# Table: name | line to append to a good file (or a whole-file transform) | key | line check
bad_cfg() { # bad_cfg NAME KEY LINE|- FILE [VAR=value...]
  local name=$1 key=$2 line=$3 file=$4 msg
  shift 4
  checkcfg "$file" "$@"
  local rc=$?
  msg=$(cat "$CC/err")
  if ((rc != 78)); then
    bad "bad config: $name: exit 78" "exit $rc" "$msg"
    return
  fi
  local miss=()
  [[ $msg == *"$file"* ]] || miss+=("file $file")
  [[ $line == - || $msg =~ (:($line)([^0-9]|$)|line\ ($line)([^0-9]|$)) ]] || miss+=("line $line")
  [[ $msg == *"$key"* ]] || miss+=("key $key")
  if ((${#miss[@]})); then bad "bad config: $name: message names file, line, key" \
    "missing: ${miss[*]}" "stderr: $msg"; else ok "bad config: $name: exit 78 naming file, line, key"; fi
}
# append_cfg NAME TEXT: a good file plus TEXT at its end; echoes the path and sets CFG_LINE
append_cfg() {
  conf_write "$CC/$1.conf"
  printf '%s\n' "$2" >>"$CC/$1.conf"
  CFG_LINE=$(wc -l <"$CC/$1.conf")
}
append_cfg unknown-key $'[sqs]\nwait_time = 5'
bad_cfg "unknown key" wait_time "$CFG_LINE" "$CC/unknown-key.conf"
conf_write "$CC/bad-value.conf" sqs.wait_time_seconds=25
bad_cfg "value out of range" wait_time_seconds "$(grep -n '^wait_time_seconds' "$CC/bad-value.conf" | cut -d: -f1)" "$CC/bad-value.conf"
conf_write "$CC/bad-int.conf" worker.threads=four
bad_cfg "not an integer" threads "$(grep -n '^threads' "$CC/bad-int.conf" | cut -d: -f1)" "$CC/bad-int.conf"
conf_write "$CC/bad-level.conf" log.level=loud
bad_cfg "unknown log level" level "$(grep -n '^level' "$CC/bad-level.conf" | cut -d: -f1)" "$CC/bad-level.conf"
conf_write "$CC/bad-url.conf" sqs.work_queue_url=not-a-url
bad_cfg "bad queue URL" work_queue_url "$(grep -n '^work_queue_url' "$CC/bad-url.conf" | cut -d: -f1)" "$CC/bad-url.conf"
append_cfg dup-key $'[worker]\nthreads = 5'
bad_cfg "duplicate key" threads "$CFG_LINE" "$CC/dup-key.conf"
append_cfg unknown-section $'[workers]\nthreads = 2'
# the section's line or that of its first key (an INI parser sees the section at its first key)
bad_cfg "unknown section" workers "$((CFG_LINE - 1))|$CFG_LINE" "$CC/unknown-section.conf"
conf_write "$CC/no-bucket.conf" s3.archive_bucket=-
bad_cfg "required key missing" archive_bucket - "$CC/no-bucket.conf"
bad_cfg "file missing" "" - "$CC/does-not-exist.conf"
conf_write "$CC/env-bad.conf"
bad_cfg "bad AWS_ENDPOINT_URL_S3 in the environment" AWS_ENDPOINT_URL_S3 - "$CC/env-bad.conf" \
  AWS_ENDPOINT_URL_S3=ftp://nope

# ==== the daemon under test ================================================================
conf_write "$W/main.conf" worker.threads=2 worker.max_input_bytes=$MAX_INPUT
E2E_MAIN=main
daemon_start main "$W/main.conf" || {
  e2e_finish
}
ok "daemon started and sent READY=1"

# ==== scenario 1: the SPEC example, with the real aws CLI ===================================
RUN1=2025-08-25-001
KEY1="run=$RUN1/input/mydata.csv"
q4check gen 300 "$W/mydata.csv" --text --seed 11
awsadmin s3 cp "$W/mydata.csv" "s3://$A/$KEY1" >/dev/null
MSG1=$(awsadmin sqs send-message --queue-url "$OWLS_WORK_QUEUE_URL" \
  --message-body "{\"input_key\": \"$KEY1\", \"run_id\": \"$RUN1\"}" --query MessageId --output text)
# receive the done notification with the aws CLI (and keep every notification seen)
NOTE1=
deadline=$(($(date +%s) + 90))
while [[ -z $NOTE1 ]] && (($(date +%s) < deadline)); do
  awsadmin sqs receive-message --queue-url "$OWLS_DONE_QUEUE_URL" --wait-time-seconds 10 \
    --max-number-of-messages 10 >"$W/cli-recv.json" || break
  for ((i = 0; i < $(jq '.Messages // [] | length' "$W/cli-recv.json"); i++)); do
    body=$(jq -c ".Messages[$i].Body | fromjson? // {_unparsable: .}" "$W/cli-recv.json")
    rh=$(jq -r ".Messages[$i].ReceiptHandle" "$W/cli-recv.json")
    printf '{"sqs_message_id": null, "received_at": %s, "body": %s}\n' "$(date +%s)" "$body" >>"$E2E_DONE_LOG"
    awsadmin sqs delete-message --queue-url "$OWLS_DONE_QUEUE_URL" --receipt-handle "$rh"
    [[ $(jq -r .run_id <<<"$body") == "$RUN1" ]] && NOTE1=$body
  done
done
if [[ -z $NOTE1 ]]; then
  bad "aws CLI: done notification for run $RUN1 within 90 s" "$(log_excerpt main)"
else
  ok "aws CLI: received the done notification for run $RUN1"
  check "aws CLI: notification work_message_id is the SendMessage MessageId" \
    "$(jq -r .work_message_id <<<"$NOTE1")" "$MSG1"
  check "aws CLI: notification artifacts.bucket" "$(jq -r .artifacts.bucket <<<"$NOTE1")" "$R"
fi
# the artifacts, as the aws CLI sees them
ETAG1=$(awsadmin s3api head-object --bucket "$A" --key "$KEY1" --query ETag --output text | tr -d '"')
D1=$W/cli-run
mkdir -p "$D1"
awsadmin s3 cp --recursive "s3://$R/run=$RUN1/" "$D1/" >/dev/null
awsadmin s3api list-objects-v2 --bucket "$R" --prefix "run=$RUN1/" --query 'Contents[].Key' \
  --output json >"$D1/_keys.json"
: >"$D1/_listing.jsonl"
for k in $(jq -r '.[]?' "$D1/_keys.json"); do
  ct=$(awsadmin s3api head-object --bucket "$R" --key "$k" --query ContentType --output text)
  jq -cn --arg k "$k" --arg c "$ct" '{key: $k, content_type: $c}' >>"$D1/_listing.jsonl"
done
jq -s . "$D1/_listing.jsonl" >"$D1/_listing.json"
printf '%s\n' "${NOTE1:-null}" >"$D1/_note.json"
if out=$(q4check run --dir "$D1" --run-id "$RUN1" --input "$W/mydata.csv" --input-key "$KEY1" \
  --input-bucket "$A" --etag "$ETAG1" --listing "$D1/_listing.json" --notification "$D1/_note.json" \
  ${OWLS_VERSION:+--version "$OWLS_VERSION"} 2>&1); then
  ok "aws CLI: five artifacts, MANIFEST (input bucket/key/ETag, sha256, bytes), partition, notification"
else
  bad "aws CLI: artifacts and notification per SPEC 4 and 5" "$out"
fi
queue_is "aws CLI job: work message deleted" work "0 0"

# ==== job forms (SPEC 2) =====================================================================
q4check gen 120 "$W/ev.csv" --seed 21
q4check gen 150 "$W/ev2.csv" --seed 22 --text
q4check gen 90 "$W/ev4.csv" --seed 24
# (a) an S3 event whose key needs URL-decoding ('+' is a space, %C3%A9 is é, %3D is =)
KEV1='run=e2e-ev1/input/my data é.csv'
ETEV1=$(owlsq put "$W/ev.csv" "$KEV1")
owlsq s3-event --rec ObjectCreated:Put "$KEV1" >"$W/ev1.json"
grep -q 'my+data+%C3%A9.csv' "$W/ev1.json" || bad "test set-up: event key encoding" "$(cat "$W/ev1.json")"
MEV1=$(owlsq send --body-file "$W/ev1.json")
# (b) one event message with three records: Put, ObjectRemoved (ignored), CompleteMultipartUpload
KEV2='run=e2e-ev2/input/a b.csv'
KEV3='run=e2e-ev3/input/removed.csv'
KEV4='run=e2e-ev4/input/d+e (1).csv'
ETEV2=$(owlsq put "$W/ev2.csv" "$KEV2")
owlsq put "$W/ev.csv" "$KEV3" >/dev/null
ETEV4=$(owlsq put "$W/ev4.csv" "$KEV4")
owlsq s3-event --rec ObjectCreated:Put "$KEV2" --rec ObjectRemoved:Delete "$KEV3" \
  --rec ObjectCreated:CompleteMultipartUpload "$KEV4" >"$W/ev-multi.json"
MEVM=$(owlsq send --body-file "$W/ev-multi.json")
# (c) an S3 event for a key without run=: the run id is generated from time and message id
KEV5='inbox/plain data.csv'
ETEV5=$(owlsq put "$W/ev.csv" "$KEV5")
T_EV5=$(date -u +%s)
MEV5=$(owlsq send --body "$(owlsq s3-event --rec ObjectCreated:Put "$KEV5")")
# (d) the s3:TestEvent S3 sends when notifications are configured: acknowledged, no notification
MTEST=$(owlsq send --body "$(owlsq test-event)")
# (e) job JSON without run_id: taken from the key's run=<id>/ prefix
KDER='run=e2e-derived/input/x.csv'
ETDER=$(owlsq put "$W/ev2.csv" "$KDER")
MDER=$(owlsq send --body "$(job_body "$KDER")")
# (f) Parquet recognised by its PAR1 magic (no extension), and unknown fields ignored
KPQ='run=e2e-pq/input/basic'
owlsq put "$ROOT/tests/data/parquet/basic_snappy.parquet" "$KPQ" >/dev/null
MPQ=$(owlsq send --body "$(jq -cn --arg k "$KPQ" '{input_key: $k, run_id: "e2e-pq", comment: "unknown fields are ignored", priority: 3}')")

if ! owlsq wait-done --timeout 90 --run e2e-ev1 --run e2e-ev2 --run e2e-ev4 --msg "$MEV5" \
  --run e2e-derived --run e2e-pq >"$W/forms.json"; then
  bad "job forms: notifications for every job" "missing: $(cat "$W/forms.json")" "$(log_excerpt main)"
fi
check_run "S3 event: URL-encoded key decoded, job runs" e2e-ev1 "$W/ev.csv" "$KEV1" "$ETEV1"
check_run "S3 event with 3 records: ObjectCreated:Put runs" e2e-ev2 "$W/ev2.csv" "$KEV2" "$ETEV2"
check_run "S3 event with 3 records: ObjectCreated:CompleteMultipartUpload runs ('+' in key as %2B)" \
  e2e-ev4 "$W/ev4.csv" "$KEV4" "$ETEV4"
check_run "job JSON without run_id: run id from the key's run=<id>/" e2e-derived "$W/ev2.csv" "$KDER" "$ETDER"
check "notifications carry their work message's id (S3 events, job JSON)" \
  "$(for r in e2e-ev1 e2e-ev2 e2e-ev4 e2e-derived e2e-pq; do owlsq notes --run $r | jq -r '.[0].work_message_id'; done | tr '\n' ' ')" \
  "$MEV1 $MEVM $MEVM $MDER $MPQ "
RUN5=$(owlsq notes --msg "$MEV5" | jq -r '.[0].run_id')
T_NOW=$(date -u +%s)
if [[ $RUN5 =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})-([0-9a-f]{8})$ ]]; then
  gen_t=$(date -u -d "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}:${BASH_REMATCH[3]}:${BASH_REMATCH[4]}" +%s)
  want_hex=$(tr -cd '0-9a-f' <<<"${MEV5,,}" | cut -c1-8)
  if [[ ${BASH_REMATCH[5]} == "$want_hex" ]] && ((gen_t >= T_EV5 - 2 && gen_t <= T_NOW + 1)); then
    ok "S3 event without run=: generated run id $RUN5 (UTC receive time + message id)"
  else
    bad "S3 event without run=: generated run id" "got $RUN5; want time in [$T_EV5, $T_NOW] and suffix $want_hex"
  fi
  check_run "S3 event without run=: job runs under the generated id" "$RUN5" "$W/ev.csv" "$KEV5" "$ETEV5"
else
  bad "S3 event without run=: generated run id YYYY-MM-DD-HHMMSS-<8 hex>" "got '$RUN5'" "$(log_excerpt main)"
fi
pq=$(owlsq notes --run e2e-pq | jq -r '.[0].status')
fmt=$(owlsq get run=e2e-pq/Q_study.json 2>/dev/null | jq -r .input.format)
check "Parquet by PAR1 magic (no extension), unknown job fields ignored: succeeded, format parquet" \
  "$pq $fmt" "succeeded parquet"
queue_is "job forms: every message deleted (incl. the s3:TestEvent)" work "0 0"
owlsq drain 1
check "s3:TestEvent: no notification" "$(owlsq notes --msg "$MTEST" | jq length)" 0
check "ObjectRemoved record: no notification, no artifacts" \
  "$(owlsq notes --run e2e-ev3 | jq length) $(owlsq list run=e2e-ev3/ | wc -l)" "0 0"
n=$(owlsq notes --msg "$MEVM" | jq '[.[] | .run_id] | sort | join(",")' -r)
check "3-record event: exactly the two ObjectCreated jobs notified" "$n" "e2e-ev2,e2e-ev4"

# (g) one event, two records that both fail without a usable run id: each gets its own error
#     record (the second must not overwrite the first's errors/<message id>.json)
owlsq s3-event --rec ObjectCreated:Put 'run=-bad1/input/x.csv' \
  --rec ObjectCreated:Put 'run=.bad2/input/y.csv' >"$W/ev-bad2.json"
MEVB=$(owlsq send --body-file "$W/ev-bad2.json")
if owlsq wait-done --timeout 60 --msg "$MEVB" --min 2 >/dev/null; then
  codes=$(owlsq notes --msg "$MEVB" | jq -r '[.[] | .error.code] | sort | join(",")')
  recs=$(owlsq notes --msg "$MEVB" | jq -r '[.[] | .error_record] | sort | join(" ")')
  m0=$(owlsq get "errors/$MEVB.json" 2>/dev/null | jq -r .message)
  m1=$(owlsq get "errors/$MEVB-1.json" 2>/dev/null | jq -r .message)
  check "2-record event failing twice: two invalid_run_id notifications" "$codes" \
    "invalid_run_id,invalid_run_id"
  check "2-record event failing twice: one error record each" "$recs" \
    "errors/$MEVB-1.json errors/$MEVB.json"
  check "2-record event failing twice: each record names its own run id" \
    "$([[ $m0 == *-bad1* && $m1 == *.bad2* ]] && echo yes || echo "no: '$m0' / '$m1'")" yes
else
  bad "2-record event failing twice: two failed notifications" "$(owlsq notes --msg "$MEVB")" \
    "$(log_excerpt main)"
fi
queue_is "2-record event failing twice: message deleted" work "0 0"

# ==== scenario 4: every permanent error a message can trigger (SPEC 6) =========================
E=$W/errors
mkdir -p "$E"
declare -A C_CODE C_WHERE C_RUN C_KEY C_MSG C_BUCKET
CASES=()
# add_case NAME CODE WHERE RUN KEY BODY -- WHERE: run | errors | derived (see owlsq.py check-failure)
add_case() {
  CASES+=("$1")
  C_CODE[$1]=$2 C_WHERE[$1]=$3 C_RUN[$1]=$4 C_KEY[$1]=$5
  printf '%s' "$6" >"$E/$1.body"
}
# job_case NAME CODE RUN FILE_CONTENT(printf) [KEYNAME] [extra jq]: upload + job JSON, record under run=RUN/
job_case() {
  local name=$1 code=$2 run=$3 content=$4 kn=${5:-in.csv} extra=${6:-.}
  local key="run=$run/input/$kn"
  printf '%b' "$content" >"$E/$name.input"
  owlsq put "$E/$name.input" "$key" >/dev/null
  add_case "$name" "$code" run "$run" "$key" "$(jq -cn --arg k "$key" --arg r "$run" "{input_key: \$k, run_id: \$r} | $extra")"
}
add_case bad_message:not-json bad_message errors "" "" 'this is {not json'
add_case bad_message:json-array bad_message errors "" "" '["input_key", "run=x/input/a.csv"]'
# > 65536 bytes, a 2-byte character straddling the cut: work_message.body must stop before it
add_case bad_message:70kB-not-json bad_message errors "" "" \
  "$(head -c 65535 /dev/zero | tr '\0' x; for _ in $(seq 3000); do printf 'é'; done)"
add_case bad_message:no-input-key bad_message derived e2e-nokey "" \
  '{"run_id": "e2e-nokey", "inputkey": "run=e2e-nokey/input/a.csv"}'
add_case bad_message:input-key-not-string bad_message derived e2e-keynum "" '{"input_key": 42, "run_id": "e2e-keynum"}'
add_case bad_message:key-over-1024-bytes bad_message derived e2e-long "" \
  "{\"input_key\": \"run=e2e-long/input/$(head -c 1100 /dev/zero | tr '\0' k).csv\", \"run_id\": \"e2e-long\"}"
add_case bad_message:key-lone-surrogate bad_message derived e2e-surr "" \
  '{"input_key": "run=e2e-surr/input/\ud800.csv", "run_id": "e2e-surr"}'
add_case invalid_run_id:space invalid_run_id errors "" "" '{"input_key": "run=e2e-x/input/a.csv", "run_id": "bad id"}'
add_case invalid_run_id:leading-dot invalid_run_id errors "" "" '{"input_key": "run=e2e-x/input/a.csv", "run_id": ".hidden"}'
add_case invalid_run_id:129-chars invalid_run_id errors "" "" \
  "{\"input_key\": \"run=e2e-x/input/a.csv\", \"run_id\": \"a$(head -c 128 /dev/zero | tr '\0' b)\"}"
add_case invalid_run_id:from-key invalid_run_id errors "" "" '{"input_key": "run=bad id!/input/a.csv"}'
job_case forbidden_bucket forbidden_bucket e2e-fb 'a,b\n1,2\n3,4\n' in.csv '. + {input_bucket: "some-other-bucket"}'
C_BUCKET[forbidden_bucket]=some-other-bucket # the notification's input names the job's bucket
add_case input_not_found input_not_found run e2e-nf "run=e2e-nf/input/missing.csv" \
  '{"input_key": "run=e2e-nf/input/missing.csv", "run_id": "e2e-nf"}'
q4check gen 4000 "$E/big.csv" --seed 5
(($(stat -c %s "$E/big.csv") > MAX_INPUT)) || bad "test set-up: big.csv must exceed $MAX_INPUT bytes"
owlsq put "$E/big.csv" "run=e2e-big/input/big.csv" >/dev/null
add_case input_too_large input_too_large run e2e-big "run=e2e-big/input/big.csv" \
  '{"input_key": "run=e2e-big/input/big.csv", "run_id": "e2e-big"}'
job_case unsupported_format unsupported_format e2e-xlsx 'a,b\n1,2\n3,4\n5,7\n' in.xlsx '. + {format: "xlsx"}'
job_case bad_csv:ragged-row bad_csv e2e-ragged 'a,b,c\n1,2,3\n4,5\n6,7,8\n'
job_case bad_csv:unterminated-quote bad_csv e2e-quote 'a,b\n1,2\n"3,4\n5,6\n'
job_case bad_csv:empty-file bad_csv e2e-empty ''
job_case bad_parquet:by-extension bad_parquet e2e-badpq 'PAR1\x15\x04garbage garbage garbage\x00\x00\x00\x08PAR1' in.parquet
job_case bad_parquet:by-magic bad_parquet e2e-badpq2 'PAR1\x15\x04garbage garbage garbage\x00\x00\x00\x08PAR1' in.bin
job_case missing_value missing_value e2e-missing 'a,b,c\n1,2,3\n4,,6\n7,8,9\n'
job_case not_enough_numeric_columns not_enough_numeric_columns e2e-1num 'a,b\n1,x\n2,y\n3,z\n'
job_case not_enough_rows not_enough_rows e2e-1row 'a,b\n1,2\n'
job_case not_enough_rows:header-only not_enough_rows e2e-hdr 'a,b\n'
for c in "${CASES[@]}"; do
  C_MSG[$c]=$(owlsq send --body-file "$E/$c.body") || bad "$c: SendMessage failed"
done
for c in "${CASES[@]}"; do
  args=(--msg "${C_MSG[$c]}" --code "${C_CODE[$c]}" --body-file "$E/$c.body" --where "${C_WHERE[$c]}" --timeout 60)
  [[ -n ${C_RUN[$c]} ]] && args+=(--run "${C_RUN[$c]}")
  [[ -n ${C_KEY[$c]} ]] && args+=(--input-key "${C_KEY[$c]}")
  [[ -n ${C_BUCKET[$c]:-} ]] && args+=(--input-bucket "${C_BUCKET[$c]}")
  if out=$(owlsq check-failure "${args[@]}" 2>&1); then
    ok "$c: failed notification + error record (${C_WHERE[$c]})"
  else
    bad "$c: failed notification + error record per SPEC 5/6" "$out" \
      "$(log_excerpt main "${C_MSG[$c]}|run_id=${C_RUN[$c]:-NONE}( |$)")"
  fi
done
queue_is "permanent errors: every message deleted" work "0 0"
queue_is "permanent errors: nothing in the dead-letter queue" dlq "0 0"
for run in e2e-ragged e2e-missing e2e-1row; do
  n=$(owlsq list "run=$run/" | grep -vc '/ERROR.json$')
  check "$run: no artifact besides ERROR.json" "$n" 0
done
if daemon_alive main; then ok "daemon still running after every permanent error"; else
  bad "daemon still running after every permanent error" "$(log_excerpt main)"
fi
# and still serving: a good job afterwards succeeds
q4check gen 200 "$W/after.csv" --seed 31
submit_run e2e-after "$W/after.csv"
KAFTER=$KEY ETAFTER=$ETAG
owlsq wait-done --timeout 60 --run e2e-after >/dev/null
check_run "a good job after the errors succeeds" e2e-after "$W/after.csv" "$KAFTER" "$ETAFTER"

# a failed run can be retried: fix the input, send again -> MANIFEST (it wins over ERROR.json)
printf 'a,b\n1,2\n' >"$E/retry-bad.csv"
owlsq put "$E/retry-bad.csv" run=e2e-retry/input/in.csv >/dev/null
MR1=$(owlsq send --body "$(job_body run=e2e-retry/input/in.csv e2e-retry)")
owlsq wait-done --timeout 60 --msg "$MR1" >/dev/null
check "retry after a failure: first attempt fails (not_enough_rows), ERROR.json" \
  "$(owlsq notes --msg "$MR1" | jq -r '.[0].error.code') $(owlsq list run=e2e-retry/ | sed 's|.*/||' | tr '\n' ' ')" \
  "not_enough_rows ERROR.json "
q4check gen 100 "$E/retry-good.csv" --seed 33
ETR=$(owlsq put "$E/retry-good.csv" run=e2e-retry/input/in.csv)
MR2=$(owlsq send --body "$(job_body run=e2e-retry/input/in.csv e2e-retry)")
owlsq wait-done --timeout 60 --msg "$MR2" >/dev/null
rm -rf "$W/runs/e2e-retry"
mkdir -p "$W/runs/e2e-retry"
owlsq fetch-run e2e-retry "$W/runs/e2e-retry"
jq '[.[] | select(.key | endswith("/ERROR.json") | not)]' "$W/runs/e2e-retry/_listing.json" >"$W/retry-listing.json"
owlsq notes --msg "$MR2" | jq '.[0]' >"$W/retry-note.json"
if out=$(q4check run --dir "$W/runs/e2e-retry" --run-id e2e-retry --input "$E/retry-good.csv" \
  --input-key run=e2e-retry/input/in.csv --input-bucket "$OWLS_ARCHIVE_BUCKET" --etag "$ETR" \
  --listing "$W/retry-listing.json" --notification "$W/retry-note.json" 2>&1); then
  ok "retry after a failure: the fixed input succeeds under the same run id"
else
  bad "retry after a failure: the fixed input succeeds under the same run id" "$out" "$(log_excerpt main "run_id=e2e-retry( |$)")"
fi

# ==== scenario 5: idempotency (SPEC 6) ===========================================================
q4check gen 250 "$W/idem.csv" --seed 41 --text
submit_run e2e-idem "$W/idem.csv" idem.csv
KIDEM=$KEY ETIDEM=$ETAG MIDEM1=$MSGID
owlsq wait-done --timeout 60 --msg "$MIDEM1" >/dev/null
check_run "idempotency: first run complete" e2e-idem "$W/idem.csv" "$KIDEM" "$ETIDEM"
owlsq snapshot run=e2e-idem/ >"$W/idem-before.json"
# the very same job again
MIDEM2=$(owlsq send --body "$(job_body "$KIDEM" e2e-idem)")
if owlsq wait-done --timeout 60 --msg "$MIDEM2" >"$W/idem2.json"; then
  n2=$(jq '.[0]' "$W/idem2.json")
  n1=$(owlsq notes --msg "$MIDEM1" | jq '.[0]')
  check "idempotency: re-sent job -> succeeded, duplicate: true" \
    "$(jq -r '[.status, .duplicate] | @tsv' <<<"$n2")" $'succeeded\ttrue'
  check "idempotency: duplicate notification's run fields match the run" \
    "$(jq -c '{run_id, input, artifacts, rows, keep_energy_fraction}' <<<"$n2")" \
    "$(jq -c '{run_id, input, artifacts, rows, keep_energy_fraction}' <<<"$n1")"
else
  bad "idempotency: notification for the re-sent job" "$(log_excerpt main "run_id=e2e-idem( |$)")"
fi
owlsq snapshot run=e2e-idem/ >"$W/idem-after.json"
check "idempotency: no recomputation (every object byte-identical, MANIFEST times unchanged)" \
  "$(cat "$W/idem-after.json")" "$(cat "$W/idem-before.json")"
# a different input (another key) for the finished run
q4check gen 250 "$W/other.csv" --seed 42
owlsq put "$W/other.csv" run=e2e-idem/input/other.csv >/dev/null
jq -cn '{input_key: "run=e2e-idem/input/other.csv", run_id: "e2e-idem"}' >"$W/conflict1.body"
MC1=$(owlsq send --body-file "$W/conflict1.body")
if out=$(owlsq check-failure --msg "$MC1" --code run_conflict --body-file "$W/conflict1.body" \
  --where errors --run e2e-idem --timeout 60 2>&1); then
  ok "run_conflict (other key): errors/<message id>.json, failed notification"
else bad "run_conflict (other key)" "$out" "$(log_excerpt main "run_id=e2e-idem( |$)")"; fi
# the same key with new content (a different ETag)
owlsq put "$W/other.csv" "$KIDEM" >/dev/null
jq -cn --arg k "$KIDEM" '{input_key: $k, run_id: "e2e-idem"}' >"$W/conflict2.body"
MC2=$(owlsq send --body-file "$W/conflict2.body")
if out=$(owlsq check-failure --msg "$MC2" --code run_conflict --body-file "$W/conflict2.body" \
  --where errors --run e2e-idem --timeout 60 2>&1); then
  ok "run_conflict (same key, new ETag): errors/<message id>.json, failed notification"
else bad "run_conflict (same key, new ETag)" "$out" "$(log_excerpt main "run_id=e2e-idem( |$)")"; fi
owlsq snapshot run=e2e-idem/ >"$W/idem-after2.json"
check "run_conflict: the completed run's objects untouched" \
  "$(cat "$W/idem-after2.json")" "$(cat "$W/idem-before.json")"
queue_is "idempotency: every message deleted" work "0 0"

# ==== SPEC 1: GetQueueAttributes is optional ====================================================
# a user whose policy lacks sqs:GetQueueAttributes: the daemon still gets ready and works
read -r NA_AK NA_SK < <(owlsq create-user owls-daemon-noattr --drop sqs:GetQueueAttributes)
OWLS_WORK_QUEUE_URL=$(owlsq create-work-queue owls-q4-work-noattr)
export OWLS_WORK_QUEUE_URL
if AWS_ACCESS_KEY_ID=$NA_AK AWS_SECRET_ACCESS_KEY=$NA_SK owlsq can-get-attributes; then
  bad "test set-up: a user without sqs:GetQueueAttributes" "GetQueueAttributes is allowed"
else
  conf_write "$W/noattr.conf"
  E2E_MAIN=noattr
  if DAEMON_AK=$NA_AK DAEMON_SK=$NA_SK daemon_start noattr "$W/noattr.conf"; then
    ok "without sqs:GetQueueAttributes: READY=1"
    q4check gen 100 "$W/noattr.csv" --seed 35
    submit_run e2e-noattr "$W/noattr.csv"
    KNA=$KEY ETNA=$ETAG
    owlsq wait-done --timeout 60 --run e2e-noattr >/dev/null
    check_run "without sqs:GetQueueAttributes: a job succeeds" e2e-noattr "$W/noattr.csv" "$KNA" "$ETNA"
    daemon_stop noattr
  fi
fi

# ==== end ======================================================================================
queue_is "dead-letter queue empty at the end" dlq "0 0"
daemon_stop main
check "daemon exits 0 on SIGTERM" "${E2E_DRC[main]:-none}" 0
if grep -qF -e "$DAEMON_SK" "$(daemon_log main)"; then bad "the log never shows the secret key"; else
  ok "the log never shows the secret key"
fi
e2e_finish
