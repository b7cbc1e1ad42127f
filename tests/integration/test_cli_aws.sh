#!/usr/bin/env bash
# tests/integration/test_cli_aws.sh -- `owls-q4 submit` and `owls-q4 results`
# (SPEC section 1) against a real moto server with SigV4 and IAM checks on,
# using the restricted data-plane user's keys; everything is cross-checked
# with the aws CLI as the admin user (an independent signer and client).
#
#   make BUILD=build build/owls-q4 build/owls-q4d
#   OWLS_BUILD=build tests/integration/test_cli_aws.sh
#
# Starts its own moto on a free loopback port (tests/integration/moto/) and,
# when $OWLS_BUILD/owls-q4d exists, the daemon for an end-to-end case
# (submit -> daemon -> results); stops both by PID. Needs Debian's
# /usr/bin/python3 (numpy) for the sample data, the pyenv python3 with moto,
# and the aws CLI. Exits non-zero on any failure; ends with "N passed, N failed".
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${OWLS_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
Q4=$BUILD/owls-q4
Q4D=$BUILD/owls-q4d
DPY=/usr/bin/python3 # Debian's, with numpy (gen_data.py)
if [[ ! -x $Q4 ]]; then
  echo "test_cli_aws: $Q4 missing (make BUILD=... \$BUILD/owls-q4)" >&2
  exit 2
fi

# shellcheck source=lib/e2e.sh
source "$HERE/lib/e2e.sh"
e2e_init cli_aws --no-daemon
e2e_moto_up
WORK=$W
unset AWS_CA_BUNDLE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE STATE_DIRECTORY NOTIFY_SOCKET
sha() { sha256sum "$1" | cut -d' ' -f1; }
A=$OWLS_ARCHIVE_BUCKET
R=$OWLS_ARTIFACTS_BUCKET
WQ=$OWLS_WORK_QUEUE_URL

CONF=$WORK/owls-q4.conf
CONF_KV=(sqs.wait_time_seconds=1 sqs.visibility_timeout=60 worker.threads=1
  worker.shutdown_grace_seconds=10)
conf_write "$CONF" "${CONF_KV[@]}"

# q4 ARGS...: run owls-q4; stdout in $WORK/out, stderr in $WORK/err, status in $rc
q4() {
  "$Q4" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
}
# expect_err NAME STATUS CODE REGEX: the last q4 exited STATUS and printed
# exactly one stderr line "owls-q4: CODE: <message>" matching REGEX
expect_err() {
  local name=$1 want=$2 code=$3 re=$4 line
  line=$(cat "$WORK/err")
  if [[ $rc != "$want" ]]; then
    bad "$name" "exit $rc, want $want; stderr: $(head -c 300 "$WORK/err")"
  elif [[ $(wc -l <"$WORK/err") != 1 ]]; then
    bad "$name" "stderr is not one line: $(head -c 400 "$WORK/err" | tr '\n' '|')"
  elif [[ ! $line =~ ^owls-q4:\ $code:\ (.+)$ ]]; then
    bad "$name" "stderr '$line' is not 'owls-q4: $code: ...'"
  elif ! grep -Eq -- "$re" <<<"${BASH_REMATCH[1]}"; then
    bad "$name" "message '${BASH_REMATCH[1]}' does not match /$re/"
  else
    ok "$name (exit $rc: $line)"
  fi
}
# take_work_messages: receive (as the admin) and delete every message on the
# work queue; their bodies, one per line, into $WORK/bodies
take_work_messages() {
  awsadmin sqs receive-message --queue-url "$WQ" --max-number-of-messages 10 --wait-time-seconds 1 \
    --visibility-timeout 30 --output json >"$WORK/recv.json"
  python3 - "$WORK/recv.json" "$WORK/bodies" "$WORK/handles" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])) if open(sys.argv[1]).read().strip() else {}
msgs = doc.get("Messages", [])
with open(sys.argv[2], "w") as b, open(sys.argv[3], "w") as h:
    for m in msgs:
        b.write(m["Body"] + "\n")
        h.write(m["ReceiptHandle"] + "\n")
PY
  while read -r h; do
    awsadmin sqs delete-message --queue-url "$WQ" --receipt-handle "$h"
  done <"$WORK/handles"
}
queue_depth() {
  awsadmin sqs get-queue-attributes --queue-url "$WQ" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' \
    --output text | tr '\t' ' '
}
# put_run RUN DIR [NAME...]: upload DIR's artifacts to run=RUN/ as the admin,
# MANIFEST.json last when it is among them (default: the five of a split)
put_run() {
  local run=$1 dir=$2 f
  shift 2
  (($#)) || set -- Q_keep.csv Q_discard.csv Q_study.json er.json MANIFEST.json
  for f in "$@"; do
    awsadmin s3api put-object --bucket "$R" --key "run=$run/$f" --body "$dir/$f" >/dev/null ||
      bad "upload run=$run/$f"
  done
}
# manifest RUN FILE...: a MANIFEST.json for FILEs, sizes and digests from stat
# and sha256sum (not from owls-q4)
manifest() {
  local run=$1 f sep=""
  shift
  printf '{"schema": "owls-q4.manifest/1", "run_id": "%s", "input": {"bucket": "%s", "key": "run=%s/input/x.csv", "etag": "0", "bytes": 1, "sha256": "%s"}, "artifacts": [' \
    "$run" "$A" "$run" "$(printf x | sha256sum | cut -d' ' -f1)"
  for f in "$@"; do
    printf '%s{"name": "%s", "key": "run=%s/%s", "bytes": %s, "sha256": "%s", "content_type": "text/csv"}' \
      "$sep" "$(basename "$f")" "$run" "$(basename "$f")" "$(stat -c %s "$f")" "$(sha "$f")"
    sep=", "
  done
  printf '], "producer": {"name": "test", "version": "0", "host": "h"}, "started_at": "2025-08-25T10:00:00Z", "finished_at": "2025-08-25T10:00:01Z"}'
}
# files in DIR (names, sorted, hidden ones too); "<absent>" without DIR
listing() { if [[ -d $1 ]]; then find "$1" -mindepth 1 -printf '%P\n' | sort | tr '\n' ' '; else echo "<absent>"; fi; }

mkdir -p "$WORK/in"
printf 'a,b,label\n1,2,x\n3,5,y\n4,1,z\n' >"$WORK/in/data.csv"

# === submit ====================================================================
q4 submit -c "$CONF" "$WORK/in/data.csv" --run-id cli-given-1
check "submit --run-id: exit 0, the run id alone on stdout, quiet stderr" \
  "$rc|$(cat "$WORK/out")|$(cat "$WORK/err")" "0|cli-given-1|"
awsadmin s3api get-object --bucket "$A" --key run=cli-given-1/input/data.csv "$WORK/got" >"$WORK/head.json"
check "submit: object byte-exact at run=<id>/input/<basename> (aws s3api get-object)" \
  "$(sha "$WORK/got")" "$(sha "$WORK/in/data.csv")"
check "submit: Content-Type text/csv for .csv" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ContentType"])' "$WORK/head.json")" "text/csv"
take_work_messages
check "submit: the work message body is exactly the SPEC 2 job JSON" \
  "$(cat "$WORK/bodies")" '{"input_key": "run=cli-given-1/input/data.csv", "run_id": "cli-given-1"}'

# generated run id: UTC stamp of the submission + first 8 hex of the file's sha256
t0=$(date -u +%s)
q4 submit -c "$CONF" "$WORK/in/data.csv"
t1=$(date -u +%s)
id=$(cat "$WORK/out")
if [[ $rc == 0 && $id =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2})-([0-9]{2})([0-9]{2})([0-9]{2})-([0-9a-f]{8})$ ]]; then
  ts=$(date -u -d "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}:${BASH_REMATCH[3]}:${BASH_REMATCH[4]}" +%s)
  suffix=${BASH_REMATCH[5]}
  ((ts >= t0 && ts <= t1)) && ok "generated run id $id: UTC time of the submission" ||
    bad "generated run id time" "$id not within [$t0, $t1]"
  check "generated run id: suffix = first 8 hex of sha256(FILE)" "$suffix" "$(sha "$WORK/in/data.csv" | cut -c1-8)"
  awsadmin s3api get-object --bucket "$A" --key "run=$id/input/data.csv" "$WORK/got" >/dev/null
  check "generated run id: object byte-exact" "$(sha "$WORK/got")" "$(sha "$WORK/in/data.csv")"
  take_work_messages
  check "generated run id: message body" "$(cat "$WORK/bodies")" "{\"input_key\": \"run=$id/input/data.csv\", \"run_id\": \"$id\"}"
else
  bad "generated run id" "exit $rc, stdout '$id', stderr '$(cat "$WORK/err")'"
fi

# names: blanks and UTF-8 (keys with '=' and 'é' are signed correctly), other types
cp "$WORK/in/data.csv" "$WORK/in/my data é.csv"
cp "$ROOT/tests/data/parquet/basic_snappy.parquet" "$WORK/in/basic.parquet"
printf 'a,b\n1,2\n3,4\n' >"$WORK/in/noext"
for c in "my data é.csv|text/csv" "basic.parquet|application/vnd.apache.parquet" \
  "noext|application/octet-stream"; do
  f=${c%|*}
  q4 submit -c "$CONF" "$WORK/in/$f" --run-id cli-names-1
  awsadmin s3api get-object --bucket "$A" --key "run=cli-names-1/input/$f" "$WORK/got" >"$WORK/head.json"
  check "submit '$f': exit 0, byte-exact, Content-Type ${c#*|}" \
    "$rc $(sha "$WORK/got") $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ContentType"])' "$WORK/head.json")" \
    "0 $(sha "$WORK/in/$f") ${c#*|}"
  take_work_messages
  check "submit '$f': message body" "$(cat "$WORK/bodies")" \
    "{\"input_key\": \"run=cli-names-1/input/$f\", \"run_id\": \"cli-names-1\"}"
done

# above 8 MiB the S3 client uploads in parts
head -c 20000000 /dev/urandom >"$WORK/in/big.csv"
q4 submit -c "$CONF" "$WORK/in/big.csv" --run-id cli-big-1
etag=$(awsadmin s3api head-object --bucket "$A" --key run=cli-big-1/input/big.csv --query ETag --output text | tr -d '"')
awsadmin s3api get-object --bucket "$A" --key run=cli-big-1/input/big.csv "$WORK/got" >/dev/null
check "submit 20 MB: exit 0, multipart (ETag -3), byte-exact" "$rc ${etag##*-} $(sha "$WORK/got")" \
  "0 3 $(sha "$WORK/in/big.csv")"
rm -f "$WORK/in/big.csv" "$WORK/got"
take_work_messages

# failures: one stderr line, the SPEC exit status, and nothing uploaded or sent
q4 submit -c "$CONF" "$WORK/in/data.csv" --run-id 'bad id/..'
expect_err "submit: invalid run id" 65 invalid_run_id 'bad id/\.\..*A-Za-z0-9'
q4 submit -c "$CONF" --run-id cli-x "$WORK/in/nope.csv"
expect_err "submit: missing FILE" 66 input_not_found 'nope\.csv: No such file'
q4 submit -c "$CONF" --run-id cli-x "$WORK/in"
expect_err "submit: FILE is a directory" 66 io 'not a regular file'
q4 submit -c "$CONF" --run-id cli-x
expect_err "submit: no FILE" 64 usage 'FILE'
q4 submit -c "$CONF" --run-id cli-x --frobnicate "$WORK/in/data.csv"
expect_err "submit: unknown option" 64 usage 'frobnicate'
printf '[aws]\nregion = us-east-1\n[s3]\narchive_bucket = %s\nartifacts_bucket = %s\n[sqs]\nwork_queue_url = %s\ndone_queue_url = %s\nwait_time_seconds = 25\n' \
  "$A" "$R" "$WQ" "$OWLS_DONE_QUEUE_URL" >"$WORK/bad.conf"
q4 submit -c "$WORK/bad.conf" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: bad config names file, line and key" 78 config 'bad\.conf:9: \[sqs\] wait_time_seconds'
sed 's/^threads = 1$/thread = 1/' "$CONF" >"$WORK/typo.conf"
q4 submit -c "$WORK/typo.conf" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: unknown key names file, line and key" 78 config 'typo\.conf:1[0-9]:.*thread'
q4 submit -c "$WORK/none.conf" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: missing config file" 78 config 'none\.conf'
conf_write "$WORK/small.conf" "${CONF_KV[@]}" worker.max_input_bytes=10
q4 submit -c "$WORK/small.conf" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: larger than max_input_bytes" 65 input_too_large 'max_input_bytes'
AWS_SECRET_ACCESS_KEY=wrong-secret q4 submit -c "$CONF" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: wrong secret" 69 aws 'SignatureDoesNotMatch'
sed "s/^archive_bucket = .*/archive_bucket = owls-q4-not-ours/" "$CONF" >"$WORK/nobucket.conf"
q4 submit -c "$WORK/nobucket.conf" --run-id cli-x "$WORK/in/data.csv"
expect_err "submit: bucket outside the IAM policy" 69 aws 'AccessDenied'
n=$(awsadmin s3api list-objects-v2 --bucket "$A" --prefix run=cli-x/ --query 'length(Contents || `[]`)' --output text)
check "failed submits uploaded nothing and sent nothing" "$n $(queue_depth)" "0 0 0"

# === results ===================================================================
# a MANIFEST made here (stat + sha256sum) for artifacts uploaded with the aws CLI
mkdir -p "$WORK/art"
printf 'x,y\n1,2\n' >"$WORK/art/Q_keep.csv"
printf '{"k": "v"}\n' >"$WORK/art/er.json"
: >"$WORK/art/empty.csv"
manifest cli-res-1 "$WORK/art/Q_keep.csv" "$WORK/art/er.json" "$WORK/art/empty.csv" >"$WORK/art/MANIFEST.json"
put_run cli-res-1 "$WORK/art" Q_keep.csv er.json empty.csv MANIFEST.json
q4 results -c "$CONF" cli-res-1 -o "$WORK/res1"
check "results: exit 0, quiet stderr" "$rc|$(cat "$WORK/err")" "0|"
check "results: DIR holds the artifacts and MANIFEST.json, no temporary files" "$(listing "$WORK/res1")" \
  "MANIFEST.json Q_keep.csv empty.csv er.json "
same=1
for f in MANIFEST.json Q_keep.csv er.json empty.csv; do cmp -s "$WORK/art/$f" "$WORK/res1/$f" || same=0; done
check "results: every file byte-identical to what was uploaded" "$same" 1
(cd "$WORK/res1" && sha256sum Q_keep.csv er.json empty.csv) >"$WORK/res1.sums"
check "results: sha256sum of the downloads = MANIFEST's digests" \
  "$(python3 -c 'import json,sys; [print(a["sha256"] + "  " + a["name"]) for a in json.load(open(sys.argv[1]))["artifacts"]]' "$WORK/res1/MANIFEST.json")" \
  "$(cat "$WORK/res1.sums")"
check "results: stdout says what was verified" "$(cat "$WORK/out")" \
  "run=cli-res-1: MANIFEST.json and 3 artifacts ($(($(stat -c %s "$WORK/art/Q_keep.csv") + $(stat -c %s "$WORK/art/er.json"))) bytes) verified (size, sha256) -> $WORK/res1"

# a realistic round trip: owls-q4 split's output directory, uploaded as the daemon would
"$DPY" "$ROOT/tests/integration/gen_data.py" case text-interleaved "$WORK/in/sample.csv"
"$Q4" split "$WORK/in/sample.csv" -o "$WORK/split1" --run-id cli-split-1 >/dev/null
put_run cli-split-1 "$WORK/split1"
q4 results -c "$CONF" cli-split-1 -o "$WORK/res-split"
check "results of a split's output: exit 0" "$rc $(cat "$WORK/err")" "0 "
if diff -r "$WORK/split1" "$WORK/res-split" >"$WORK/diff" 2>&1; then
  ok "results of a split's output: the five files identical to split's"
else
  bad "results of a split's output" "$(head -5 "$WORK/diff")"
fi

# corrupted: same size, one byte changed -> error, nothing of this run in DIR
printf 'x,y\n1,3\n' >"$WORK/art/bad.csv"
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/Q_keep.csv --body "$WORK/art/bad.csv" >/dev/null
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/er.json --body "$WORK/art/er.json" >/dev/null
sed 's/cli-res-1/cli-corrupt-1/g' "$WORK/art/MANIFEST.json" >"$WORK/art/M-corrupt.json"
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/MANIFEST.json --body "$WORK/art/M-corrupt.json" >/dev/null
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/empty.csv --body "$WORK/art/empty.csv" >/dev/null
q4 results -c "$CONF" cli-corrupt-1 -o "$WORK/res-bad"
expect_err "results: artifact with a wrong sha256" 65 aws "Q_keep\.csv does not match MANIFEST\.json.*sha256 $(sha "$WORK/art/bad.csv").*expected.*$(sha "$WORK/art/Q_keep.csv")"
check "results: wrong sha256 -> DIR not left behind" "$(listing "$WORK/res-bad")" "<absent>"
# ... into a DIR that holds an earlier, valid download: left exactly as it was
cp -r "$WORK/res1" "$WORK/res-keep"
(cd "$WORK/res-keep" && sha256sum ./*) >"$WORK/keep.before"
q4 results -c "$CONF" cli-corrupt-1 -o "$WORK/res-keep"
expect_err "results: wrong sha256 into a used DIR" 65 aws 'does not match'
check "results: the used DIR unchanged, no temporary files" \
  "$(listing "$WORK/res-keep")|$(cd "$WORK/res-keep" && sha256sum ./* | cmp -s - "$WORK/keep.before" && echo same)" \
  "MANIFEST.json Q_keep.csv empty.csv er.json |same"
# larger than listed (the second artifact, so the first was already fetched)
printf '{"k": "v"}\nmore\n' >"$WORK/art/big.json"
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/er.json --body "$WORK/art/big.json" >/dev/null
awsadmin s3api put-object --bucket "$R" --key run=cli-corrupt-1/Q_keep.csv --body "$WORK/art/Q_keep.csv" >/dev/null
q4 results -c "$CONF" cli-corrupt-1 -o "$WORK/res-big"
expect_err "results: artifact larger than listed" 65 aws 'er\.json is larger than the 11 bytes'
check "results: larger artifact -> nothing in DIR" "$(listing "$WORK/res-big")" "<absent>"
awsadmin s3api delete-object --bucket "$R" --key run=cli-corrupt-1/er.json
q4 results -c "$CONF" cli-corrupt-1 -o "$WORK/res-missing"
expect_err "results: listed artifact missing" 65 aws 'er\.json is listed in MANIFEST\.json but missing'
check "results: missing artifact -> nothing in DIR" "$(listing "$WORK/res-missing")" "<absent>"

# a MANIFEST whose names would escape DIR
mkdir -p "$WORK/evil"
printf '{"schema": "owls-q4.manifest/1", "run_id": "cli-evil-1", "artifacts": [{"name": "../escaped.csv", "key": "run=cli-evil-1/../escaped.csv", "bytes": 2, "sha256": "%s"}]}' \
  "$(printf 'x\n' | sha256sum | cut -d' ' -f1)" >"$WORK/evil/MANIFEST.json"
put_run cli-evil-1 "$WORK/evil" MANIFEST.json
q4 results -c "$CONF" cli-evil-1 -o "$WORK/res-evil/sub"
expect_err "results: MANIFEST naming ../escaped.csv refused" 65 aws 'not a plain file name'
check "results: nothing written outside (or inside) DIR" "$(listing "$WORK/res-evil")" "<absent>"

# ERROR.json: its code and message, exit 65; MANIFEST wins when both exist
printf '{"schema": "owls-q4.error/1", "code": "missing_value", "message": "run=cli-err-1/input/x.csv: row 2, column \\"beta\\": empty value in a numeric column", "run_id": "cli-err-1", "work_message_id": "m-1", "job": "{}", "failed_at": "2025-08-25T10:00:00Z"}' >"$WORK/art/ERROR.json"
awsadmin s3api put-object --bucket "$R" --key run=cli-err-1/ERROR.json --body "$WORK/art/ERROR.json" >/dev/null
q4 results -c "$CONF" cli-err-1 -o "$WORK/res-err"
expect_err "results: ERROR.json -> its code and message" 65 missing_value \
  '^run=cli-err-1/input/x\.csv: row 2, column "beta": empty value in a numeric column$'
check "results: ERROR.json -> no DIR" "$(listing "$WORK/res-err")" "<absent>"
awsadmin s3api put-object --bucket "$R" --key run=cli-res-1/ERROR.json --body "$WORK/art/ERROR.json" >/dev/null
q4 results -c "$CONF" cli-res-1 -o "$WORK/res-both"
check "results: MANIFEST.json and ERROR.json -> the MANIFEST wins" \
  "$rc|$(cat "$WORK/err")|$(listing "$WORK/res-both")" "0||MANIFEST.json Q_keep.csv empty.csv er.json "
printf 'not json' >"$WORK/art/ERROR-2.json"
awsadmin s3api put-object --bucket "$R" --key run=cli-err-2/ERROR.json --body "$WORK/art/ERROR-2.json" >/dev/null
q4 results -c "$CONF" cli-err-2 -o "$WORK/res-err2"
expect_err "results: unreadable ERROR.json still fails the run" 65 aws 'cli-err-2 failed.*ERROR\.json'

# nothing there: --wait 0 looks once; --wait N gives up after about N s
s=$(date +%s%N)
q4 results -c "$CONF" cli-none-1 -o "$WORK/res-none"
ms=$((($(date +%s%N) - s) / 1000000))
expect_err "results --wait 0 with nothing: exit 75 (EX_TEMPFAIL)" 75 aws 'cli-none-1 is not finished.*yet'
((ms < 2000)) && ok "results --wait 0 looks once (${ms} ms)" || bad "results --wait 0 time" "${ms} ms"
s=$(date +%s%N)
q4 results -c "$CONF" cli-none-1 -o "$WORK/res-none" --wait 3
ms=$((($(date +%s%N) - s) / 1000000))
expect_err "results --wait 3 with nothing: gives up with a clear message" 75 aws \
  'cli-none-1 is not finished: no MANIFEST\.json or ERROR\.json in s3://owls-q4-artifacts/run=cli-none-1/ after waiting 3 s'
((ms >= 2900 && ms < 5000)) && ok "results --wait 3 gave up after ${ms} ms" || bad "results --wait 3 time" "${ms} ms"
check "results: nothing there -> no DIR" "$(listing "$WORK/res-none")" "<absent>"

# --wait while the run completes: the artifacts go up once results has looked
# (and missed) twice, i.e. about 3 s after it started (1 s + 2 s pauses)
"$Q4" split "$WORK/in/data.csv" -o "$WORK/split2" --run-id cli-late-1 >/dev/null
s=$(date +%s%N)
"$Q4" results -c "$CONF" cli-late-1 -o "$WORK/res-late" --wait 30 -v >"$WORK/late.out" 2>"$WORK/late.err" &
BGPID=$!
E2E_BG_PIDS+=("$BGPID") # stopped by PID at exit if still running
for _ in $(seq 1 200); do # guard: 20 s
  grep -q 'looking again in 2000 ms' "$WORK/late.err" && break
  sleep 0.1
done
grep -q 'looking again in 2000 ms' "$WORK/late.err" || bad "results --wait: second miss not seen"
put_run cli-late-1 "$WORK/split2"
up=$((($(date +%s%N) - s) / 1000000))
wait "$BGPID"
rc=$?
ms=$((($(date +%s%N) - s) / 1000000))
check "results --wait 30: the late MANIFEST is found (exit 0)" "$rc" 0
((up >= 1000 && ms < up + 8000)) && ok "results --wait: uploaded at ${up} ms, done at ${ms} ms (next look <= 5 s later)" ||
  bad "results --wait timing" "uploaded at ${up} ms, done at ${ms} ms"
diff -r "$WORK/split2" "$WORK/res-late" >/dev/null && ok "results --wait: files identical to split's" ||
  bad "results --wait: files differ"

# usage, run id, config, credentials
q4 results -c "$CONF" 'run=1/x' -o "$WORK/r"
expect_err "results: invalid run id" 65 invalid_run_id 'run=1/x'
q4 results -c "$CONF" cli-res-1
expect_err "results: -o missing" 64 usage '-o DIR'
q4 results -c "$CONF" cli-res-1 -o "$WORK/r" --wait soon
expect_err "results: --wait not a number" 64 usage 'soon'
q4 results -c "$WORK/bad.conf" cli-res-1 -o "$WORK/r"
expect_err "results: bad config" 78 config 'bad\.conf:9: \[sqs\] wait_time_seconds'
AWS_SECRET_ACCESS_KEY=wrong-secret q4 results -c "$CONF" cli-res-1 -o "$WORK/r"
expect_err "results: wrong secret" 69 aws 'SignatureDoesNotMatch'
sed "s/^artifacts_bucket = .*/artifacts_bucket = owls-q4-not-ours/" "$CONF" >"$WORK/nobucket2.conf"
q4 results -c "$WORK/nobucket2.conf" cli-res-1 -o "$WORK/r" --wait 30
expect_err "results: bucket outside the IAM policy fails at once" 69 aws 'AccessDenied'
printf 'x' >"$WORK/afile"
q4 results -c "$CONF" cli-res-1 -o "$WORK/afile/sub"
check "results: DIR cannot be created -> exit 73" "$rc $(cut -d: -f2 "$WORK/err")" "73  io"

# === end to end: submit -> owls-q4d -> results ===================================
if [[ -x $Q4D ]]; then
  "$DPY" "$ROOT/tests/integration/gen_data.py" case quoted-fields "$WORK/in/e2e.csv"
  printf 'alpha,beta,gamma\n1,2,3\n4,,6\n7,8,9\n' >"$WORK/in/e2e-missing.csv"
  mkdir -p "$WORK/dtmp"
  TMPDIR=$WORK/dtmp "$Q4D" -c "$CONF" 2>"$WORK/daemon.log" &
  DPID=$!
  E2E_BG_PIDS+=("$DPID")
  for _ in $(seq 1 300); do # guard: 30 s
    grep -q 'ready: polling' "$WORK/daemon.log" && break
    kill -0 "$DPID" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q 'ready: polling' "$WORK/daemon.log"; then
    bad "e2e: owls-q4d did not become ready" "$(tail -3 "$WORK/daemon.log")"
  else
    ok "e2e: owls-q4d ready (pid $DPID)"
    q4 submit -c "$CONF" "$WORK/in/e2e.csv"
    id=$(cat "$WORK/out")
    check "e2e: submit" "$rc" 0
    q4 results -c "$CONF" "$id" -o "$WORK/e2e" --wait 60
    check "e2e: results after the daemon ran the job" "$rc|$(cat "$WORK/err")" "0|"
    "$Q4" split "$WORK/in/e2e.csv" -o "$WORK/e2e-local" --run-id "$id" >/dev/null
    same=1
    for f in Q_keep.csv Q_discard.csv er.json; do cmp -s "$WORK/e2e/$f" "$WORK/e2e-local/$f" || same=0; done
    check "e2e: the daemon's Q_keep.csv, Q_discard.csv, er.json = a local split's" "$same" 1
    etag=$(awsadmin s3api head-object --bucket "$A" --key "run=$id/input/e2e.csv" --query ETag --output text | tr -d '"')
    check "e2e: MANIFEST input = the submitted object (bucket, key, etag, sha256)" \
      "$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["input"]; print(i["bucket"], i["key"], i["etag"], i["sha256"])' "$WORK/e2e/MANIFEST.json")" \
      "$A run=$id/input/e2e.csv $etag $(sha "$WORK/in/e2e.csv")"
    q4 submit -c "$CONF" "$WORK/in/e2e-missing.csv" --run-id cli-e2e-fail-1
    q4 results -c "$CONF" cli-e2e-fail-1 -o "$WORK/e2e-fail" --wait 60
    expect_err "e2e: a job the daemon fails -> results prints its ERROR.json" 65 missing_value \
      'row 2.*beta'
  fi
  kill -TERM "$DPID" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done # guard: 15 s
  if kill -0 "$DPID" 2>/dev/null; then
    kill -KILL "$DPID"
    bad "e2e: owls-q4d did not stop on SIGTERM"
  fi
  wait "$DPID"
  check "e2e: owls-q4d exits 0 on SIGTERM" "$?" 0
else
  bad "e2e: $Q4D missing (make BUILD=... \$BUILD/owls-q4d)"
fi

e2e_finish
