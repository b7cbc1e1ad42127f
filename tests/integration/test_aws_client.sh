#!/usr/bin/env bash
# tests/integration/test_aws_client.sh -- the AWS layer (S3, SQS, SigV4,
# retries) against a real moto server with signature and IAM checks on.
#
# Starts its own moto on a free loopback port (tests/integration/moto/), runs
# the probe binary $OWLS_BUILD/awsprobe with the restricted data-plane user's
# keys, cross-checks with the aws CLI, stops moto by PID. Standalone:
#   make BUILD=build build/awsprobe && OWLS_BUILD=build tests/integration/test_aws_client.sh
# Exits non-zero on any failure; ends with "N passed, N failed".
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${OWLS_BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
PROBE=$BUILD/awsprobe
if [[ ! -x $PROBE ]]; then
  echo "test_aws_client: $PROBE missing (make BUILD=... \$BUILD/awsprobe)" >&2
  exit 2
fi

# shellcheck source=lib/e2e.sh
source "$HERE/lib/e2e.sh"
e2e_init aws_client --no-daemon
e2e_moto_up
WORK=$W
probe() { "$PROBE" --endpoint "$MOTO_ENDPOINT" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
A=$OWLS_ARCHIVE_BUCKET
R=$OWLS_ARTIFACTS_BUCKET

# --- S3 round trips of awkward keys, byte-exact ------------------------------
head -c 3000 /dev/urandom >"$WORK/rand.bin"
printf 'a,b\n1,2\n3,4\n' >"$WORK/small.csv"
keys=(
  'run=2025-08-25-001/input/my data é.csv'
  'run=x/a+b=c%d/50% off & more.csv'
  'spaces  two/tab	and ü€ 😀.bin'
  "quotes'\"/paren(1)[2]{3}!*~;:@,\$.txt"
  'deep/a/b/c/d/e/f/g/h/i/j/k.txt'
)
i=0
for k in "${keys[@]}"; do
  i=$((i + 1))
  src=$WORK/rand.bin
  ((i % 2)) && src=$WORK/small.csv
  if out=$(probe s3-put "$A" "$k" "$src" 2>&1); then ok "put key $i"; else bad "put key $i" "$out"; continue; fi
  # read back with the aws CLI (an independent signer and encoder)
  rm -f "$WORK/cli.out"
  if awsadmin s3api get-object --bucket "$A" --key "$k" "$WORK/cli.out" >/dev/null 2>"$WORK/cli.err"; then
    check "key $i byte-exact via aws s3api get-object" "$(sha "$WORK/cli.out")" "$(sha "$src")"
  else
    bad "key $i via aws s3api get-object" "$(tail -1 "$WORK/cli.err")"
  fi
  probe s3-get "$A" "$k" "$WORK/probe.out" >/dev/null 2>"$WORK/probe.err"
  check "key $i byte-exact via the probe" "$(sha "$WORK/probe.out")" "$(sha "$src")"
  etag_cli=$(awsadmin s3api head-object --bucket "$A" --key "$k" --query ETag --output text | tr -d '"')
  check "key $i HeadObject size and ETag (no quotes)" "$(probe s3-head "$A" "$k")" \
    "size=$(stat -c %s "$src") etag=$etag_cli"
done
# the other direction: an object written by the aws CLI, read by the probe
k2='run=cli/written by aws+cli=ok.csv'
awsadmin s3api put-object --bucket "$A" --key "$k2" --body "$WORK/small.csv" >/dev/null
probe s3-get "$A" "$k2" "$WORK/p2.out" >/dev/null
check "object written by the aws CLI read byte-exact" "$(sha "$WORK/p2.out")" "$(sha "$WORK/small.csv")"

# --- ranged GET ----------------------------------------------------------------
out=$(probe s3-get "$A" "${keys[1]}" "$WORK/range.out" 100-199)
check "ranged GET size/length" "${out% etag=*}" "size=3000 length=100"
check "ranged GET bytes" "$(sha "$WORK/range.out")" \
  "$(dd if="$WORK/rand.bin" bs=1 skip=100 count=100 2>/dev/null | sha256sum | cut -d' ' -f1)"
# max size: a clear "too large" error
if probe s3-get "$A" "${keys[1]}" "$WORK/big.out" - 1000 2>"$WORK/err"; then
  bad "max size refused" "succeeded"
else
  grep -q "input_too_large: .*larger than the limit of 1000 bytes" "$WORK/err" &&
    ok "max size refused with a clear error" || bad "max size error" "$(cat "$WORK/err")"
fi

# --- multipart: 20 MB goes in 3 parts ------------------------------------------
head -c 20000000 /dev/urandom >"$WORK/20mb.bin"
out=$(probe s3-put "$R" 'run=mp/big file.bin' "$WORK/20mb.bin" 2>&1)
check "20 MB upload reports 3 parts" "${out#* }" "parts=3"
etag_cli=$(awsadmin s3api head-object --bucket "$R" --key 'run=mp/big file.bin' --query ETag --output text | tr -d '"')
[[ $etag_cli == *-3 ]] && ok "S3 ETag has the multipart -3 suffix ($etag_cli)" || bad "multipart ETag" "$etag_cli"
check "multipart ETag as the probe saw it" "${out%% *}" "etag=$etag_cli"
awsadmin s3api get-object --bucket "$R" --key 'run=mp/big file.bin' "$WORK/20mb.cli" >/dev/null
check "20 MB object byte-exact via aws CLI" "$(sha "$WORK/20mb.cli")" "$(sha "$WORK/20mb.bin")"
probe s3-get "$R" 'run=mp/big file.bin' "$WORK/20mb.probe" >/dev/null
check "20 MB object byte-exact via the probe" "$(sha "$WORK/20mb.probe")" "$(sha "$WORK/20mb.bin")"
uploads=$(awsadmin s3api list-multipart-uploads --bucket "$R" --query 'length(Uploads || `[]`)' --output text)
check "no multipart upload left open" "$uploads" "0"

# --- errors: not found, wrong secret, control plane -----------------------------
if probe s3-get "$A" 'run=none/missing.csv' "$WORK/x" 2>"$WORK/err"; then bad "missing key" "succeeded"; else
  grep -q 'NoSuchKey' "$WORK/err" && ok "missing key -> NoSuchKey" || bad "missing key" "$(cat "$WORK/err")"
fi
if AWS_SECRET_ACCESS_KEY=wrong-secret probe s3-get "$A" "${keys[0]}" "$WORK/x" 2>"$WORK/err"; then
  bad "S3 wrong secret" "succeeded"
else
  grep -q 'SignatureDoesNotMatch' "$WORK/err" && ok "S3 wrong secret -> SignatureDoesNotMatch" ||
    bad "S3 wrong secret" "$(cat "$WORK/err")"
fi
if AWS_SECRET_ACCESS_KEY=wrong-secret probe sqs-send "$OWLS_DONE_QUEUE_URL" x 2>"$WORK/err"; then
  bad "SQS wrong secret" "succeeded"
else
  grep -q 'SignatureDoesNotMatch' "$WORK/err" && ok "SQS wrong secret -> SignatureDoesNotMatch (XML on a JSON call)" ||
    bad "SQS wrong secret" "$(cat "$WORK/err")"
fi
if probe s3-create-bucket owls-q4-not-allowed 2>"$WORK/err"; then bad "CreateBucket denied" "succeeded"; else
  grep -q 'AccessDenied' "$WORK/err" && ok "control plane (CreateBucket) -> AccessDenied" ||
    bad "CreateBucket" "$(cat "$WORK/err")"
fi

# --- SQS: send, receive, change visibility, delete (batch) ------------------------
Q=$OWLS_WORK_QUEUE_URL
id1=$(probe sqs-send "$Q" '{"input_key":"run=1/input/a.csv","run_id":"1"}')
id2=$(probe sqs-send "$Q" 'second é message')
[[ -n $id1 && -n $id2 ]] && ok "SendMessage returns message ids" || bad "SendMessage"
probe sqs-receive "$Q" 1 10 30 >"$WORK/r1" 2>/dev/null
check "ReceiveMessage gets both" "$(wc -l <"$WORK/r1")" "2"
jq_py() { python3 -c "import json,sys; ms=[json.loads(l) for l in open(sys.argv[1])]; print($2)" "$1"; }
check "bodies byte-exact" "$(jq_py "$WORK/r1" "'|'.join(sorted(m['body'] for m in ms))")" \
  'second é message|{"input_key":"run=1/input/a.csv","run_id":"1"}'
check "ApproximateReceiveCount 1 and SentTimestamp set" \
  "$(jq_py "$WORK/r1" "','.join(str(m['receive_count']) + str(m['sent_ms'] > 0) for m in ms)")" "1True,1True"
h1=$(jq_py "$WORK/r1" "ms[0]['handle']")
h2=$(jq_py "$WORK/r1" "ms[1]['handle']")
check "invisible after receive" "$(probe sqs-receive "$Q" 0 10 2>/dev/null | wc -l)" "0"
probe sqs-chvis "$Q" "$h1" 0 && ok "ChangeMessageVisibility" || bad "ChangeMessageVisibility"
probe sqs-receive "$Q" 1 10 30 >"$WORK/r2" 2>/dev/null
check "visible again, receive count 2" "$(jq_py "$WORK/r2" "[m['receive_count'] for m in ms]")" "[2]"
h1=$(jq_py "$WORK/r2" "ms[0]['handle']")
check "ChangeMessageVisibilityBatch" "$(probe sqs-chvis-batch "$Q" 45 "$h1" "$h2" | tr '\n' ' ')" "ok ok "
out=$(probe sqs-delete-batch "$Q" "$h1" "not-a-receipt-handle" | tr '\n' ' ')
[[ $out == "ok fail "* ]] && ok "DeleteMessageBatch reports the bad entry ($out)" || bad "DeleteMessageBatch" "$out"
probe sqs-delete "$Q" "$h2" && ok "DeleteMessage" || bad "DeleteMessage"
check "queue empty afterwards" "$(probe sqs-attrs "$Q" ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible | sort | tr '\n' ' ')" \
  "ApproximateNumberOfMessages=0 ApproximateNumberOfMessagesNotVisible=0 "
# (as the admin: the restricted user may not even learn that a queue is missing)
if AWS_ACCESS_KEY_ID=$MOTO_ADMIN_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_ADMIN_SECRET_ACCESS_KEY \
  probe sqs-send "${Q%/*}/owls-q4-nonexistent" x 2>"$WORK/err"; then
  bad "missing queue" "succeeded"
else
  grep -q 'QueueDoesNotExist' "$WORK/err" && ok "missing queue -> QueueDoesNotExist" ||
    bad "missing queue" "$(cat "$WORK/err")"
fi

# --- long polling ----------------------------------------------------------------------
D=$OWLS_DONE_QUEUE_URL
probe sqs-receive "$D" 3 1 >"$WORK/lp" 2>"$WORK/lp.err"
ms=$(sed -n 's/^elapsed_ms=//p' "$WORK/lp.err")
((ms >= 2900 && ms < 6000)) && ok "empty long poll (3 s) returns after ${ms} ms" || bad "empty long poll" "${ms} ms"
probe sqs-receive "$D" 10 1 >"$WORK/lp2" 2>"$WORK/lp2.err" &
BGPID=$!
E2E_BG_PIDS+=("$BGPID") # stopped by PID at exit if still running
sleep 1 # let the poll reach moto; if it has not yet, the check below still holds
probe sqs-send "$D" 'wake up' >/dev/null
wait "$BGPID"
ms=$(sed -n 's/^elapsed_ms=//p' "$WORK/lp2.err")
check "long poll returns the message" "$(jq_py "$WORK/lp2" "ms[0]['body']")" "wake up"
((ms < 5000)) && ok "long poll (10 s) returned ${ms} ms after it started, at the message" ||
  bad "long poll wake-up" "${ms} ms"

e2e_finish
