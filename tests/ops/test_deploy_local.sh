#!/usr/bin/env bash
# tests/ops/test_deploy_local.sh -- scripts/deploy-local.sh against a real moto
# server (started here on 127.0.0.1 on a free port, auth off, stopped by PID):
# run twice (identical config, exit 0), then check buckets, queues (redrive,
# visibility, sizes), the printed config's values, the S3 -> SQS notification
# end to end, convergence when a setting changes, and refused bad options.
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
HERE=$OPS_ROOT/tests/ops
DEPLOY=$OPS_ROOT/scripts/deploy-local.sh

for t in moto_server aws python3 curl; do
  command -v "$t" >/dev/null || { bad "tool $t" "not on PATH (moto and awscli come with the machine's python3)"; finish; }
done
python3 -c 'import boto3' 2>/dev/null || { bad "boto3" "python3 has no boto3"; finish; }

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_PAGER=""
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN

echo "== start moto"
start_moto || { bad "moto starts" "see above"; finish; }
EP=$MOTO_EP
ok "moto on $EP (pid $MOTO_PID)"

echo "== deploy twice"
args=(--endpoint-url "$EP" --prefix owlst --longest-job-seconds 20 --max-receive-count 7 --s3-notification --threads 3)
"$DEPLOY" "${args[@]}" >"$OPS_TMP/run1.conf" 2>"$OPS_TMP/run1.err" && ok "first run exits 0" || bad "first run" "$(tail -n 5 "$OPS_TMP/run1.err")"
"$DEPLOY" "${args[@]}" >"$OPS_TMP/run2.conf" 2>"$OPS_TMP/run2.err" && ok "second run exits 0 (idempotent)" || bad "second run" "$(tail -n 5 "$OPS_TMP/run2.err")"
cmp -s "$OPS_TMP/run1.conf" "$OPS_TMP/run2.conf" && ok "both runs print the same config" || bad "configs differ" "$(diff "$OPS_TMP/run1.conf" "$OPS_TMP/run2.conf")"
[[ -s $OPS_TMP/run1.conf ]] && ! grep -q 'deploy-local:' "$OPS_TMP/run1.conf" && ok "progress goes to stderr, not into the config" || bad "stdout" "log lines in the config"
expect "the config has exactly SPEC §7's keys" python3 "$HERE/conf_keys.py" --check "$OPS_TMP/run2.conf"

echo "== resources and config values"
python3 - "$EP" "$OPS_TMP/run2.conf" "$HERE" <<'PY' && ok "resources and config checked (cases above)" || bad "resources" "see the FAIL lines above"
import json, sys
import boto3
ep, conf_path, here = sys.argv[1:4]
sys.path.insert(0, here)
import conf_keys
s3 = boto3.client("s3", endpoint_url=ep)
sqs = boto3.client("sqs", endpoint_url=ep)
conf = conf_keys.parse(open(conf_path).read(), conf_path)
failed = 0
def case(name, cond, detail=""):
    global failed
    print(("  ok   " if cond else "  FAIL ") + name + ("" if cond else f": {detail}"))
    failed |= not cond

url = {q: sqs.get_queue_url(QueueName=f"owlst-{q}")["QueueUrl"] for q in ("work", "done", "dlq")}
attrs = {q: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"] for q, u in url.items()}
work = attrs["work"]
rp = json.loads(work.get("RedrivePolicy", "{}"))
cases = [
    ("work queue redrives to the dlq", rp.get("deadLetterTargetArn") == attrs["dlq"]["QueueArn"], rp),
    ("maxReceiveCount = 7 (as asked, >= 5)", int(rp.get("maxReceiveCount", 0)) == 7, rp),
    ("work visibility = 6 x 20 s", work["VisibilityTimeout"] == "120", work["VisibilityTimeout"]),
    ("work long-poll wait 20 s", work["ReceiveMessageWaitTimeSeconds"] == "20", work["ReceiveMessageWaitTimeSeconds"]),
    ("work/done max message size >= 64 KiB", all(int(attrs[q]["MaximumMessageSize"]) >= 65536 for q in ("work", "done")), ""),
    ("dlq keeps messages 14 days", attrs["dlq"]["MessageRetentionPeriod"] == "1209600", attrs["dlq"]["MessageRetentionPeriod"]),
    ("work queue policy lets only the archive bucket's S3 send",
     (lambda p: p["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
      and p["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::owlst-archive"
      and "aws:SourceAccount" in p["Statement"][0]["Condition"]["StringEquals"])(json.loads(work.get("Policy", "{}"))),
     work.get("Policy")),
]
for b in ("owlst-archive", "owlst-artifacts"):
    enc = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    pab = s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"]
    own = s3.get_bucket_ownership_controls(Bucket=b)["OwnershipControls"]["Rules"][0]
    cases += [
        (f"{b}: versioning Enabled", s3.get_bucket_versioning(Bucket=b).get("Status") == "Enabled", ""),
        (f"{b}: SSE-S3 by default", enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", enc),
        (f"{b}: public access blocked", all(pab.values()) and len(pab) == 4, pab),
        (f"{b}: bucket owner enforced", own["ObjectOwnership"] == "BucketOwnerEnforced", own),
    ]
want = {("aws", "region"): "us-east-1", ("aws", "endpoint_url"): ep, ("s3", "addressing"): "path",
        ("s3", "archive_bucket"): "owlst-archive", ("s3", "artifacts_bucket"): "owlst-artifacts",
        ("sqs", "work_queue_url"): url["work"], ("sqs", "done_queue_url"): url["done"],
        ("sqs", "visibility_timeout"): "120", ("sqs", "wait_time_seconds"): "20",
        ("worker", "threads"): "3", ("log", "level"): "info"}
for (sec, key), v in want.items():
    cases.append((f"config [{sec}] {key} = {v}", conf[sec][key] == v, conf[sec][key]))
for name, cond, detail in cases:
    case(name, cond, detail)
sys.exit(failed)
PY

echo "== S3 -> SQS notification, end to end"
python3 - "$EP" <<'PY' && ok "ObjectCreated under run= reaches the work queue; other keys do not" || bad "notification" "see above"
import json, sys, time, urllib.parse
import boto3
ep = sys.argv[1]
s3, sqs = boto3.client("s3", endpoint_url=ep), boto3.client("sqs", endpoint_url=ep)
q = sqs.get_queue_url(QueueName="owlst-work")["QueueUrl"]
def drain(seconds):
    keys, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            body = json.loads(m["Body"])
            for rec in body.get("Records", []):
                keys.append((rec["eventName"], urllib.parse.unquote_plus(rec["s3"]["object"]["key"])))
            sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
        if keys:
            return keys
    return keys
drain(2)  # s3:TestEvent messages from the two configuration runs
s3.put_object(Bucket="owlst-archive", Key="other/x.csv", Body=b"a,b\n1,2\n")
s3.put_object(Bucket="owlst-archive", Key="run=t1/input/x y.csv", Body=b"a,b\n1,2\n")
keys = drain(10)  # failure guard; returns as soon as the record arrives
print(f"    records: {keys}")
sys.exit(0 if keys == [("ObjectCreated:Put", "run=t1/input/x y.csv")] else 1)
PY

echo "== a changed setting converges"
"$DEPLOY" --endpoint-url "$EP" --prefix owlst --longest-job-seconds 30 --max-receive-count 9 >"$OPS_TMP/run3.conf" 2>"$OPS_TMP/run3.err" || bad "third run" "$(tail -n 3 "$OPS_TMP/run3.err")"
got=$(aws --endpoint-url "$EP" sqs get-queue-attributes --queue-url "$(python3 "$HERE/conf_keys.py" --get "$OPS_TMP/run3.conf" sqs.work_queue_url)" \
  --attribute-names VisibilityTimeout RedrivePolicy --output json | python3 -c 'import json,sys; a=json.load(sys.stdin)["Attributes"]; print(a["VisibilityTimeout"], json.loads(a["RedrivePolicy"])["maxReceiveCount"])')
[[ $got == "180 9" ]] && ok "visibility 180 s and maxReceiveCount 9 after re-running with new values" || bad "convergence" "got '$got'"
[[ $(python3 "$HERE/conf_keys.py" --get "$OPS_TMP/run3.conf" sqs.visibility_timeout) == 180 ]] && ok "config follows (visibility_timeout = 180)" || bad "config visibility"

echo "== --config-endpoint-url rewrites the queue URLs' origin"
"$DEPLOY" --endpoint-url "$EP" --prefix owlst --longest-job-seconds 30 --max-receive-count 9 \
  --config-endpoint-url http://localstack:4566 >"$OPS_TMP/run4.conf" 2>"$OPS_TMP/run4.err"
w3=$(python3 "$HERE/conf_keys.py" --get "$OPS_TMP/run3.conf" sqs.work_queue_url)
w4=$(python3 "$HERE/conf_keys.py" --get "$OPS_TMP/run4.conf" sqs.work_queue_url)
e4=$(python3 "$HERE/conf_keys.py" --get "$OPS_TMP/run4.conf" aws.endpoint_url)
[[ $w4 == "http://localstack:4566${w3#"$EP"}" && $e4 == http://localstack:4566 ]] && ok "work_queue_url $w4" || bad "rewrite" "$w3 -> $w4, endpoint $e4"

echo "== bad options are refused before anything is created"
# name | arguments | message
refusals=(
  "no endpoint|--prefix x|--endpoint-url is required"
  "maxReceiveCount below 5|--endpoint-url $EP --prefix refused --max-receive-count 3|--max-receive-count"
  "visibility below 6 x longest job|--endpoint-url $EP --prefix refused --longest-job-seconds 20 --visibility-timeout 60|< 6 x longest job"
  "bad bucket name|--endpoint-url $EP --prefix refused --archive-bucket Bad_Bucket|naming rules"
  "same bucket twice|--endpoint-url $EP --prefix refused --archive-bucket same-b --artifacts-bucket same-b|must differ"
  "unknown option|--endpoint-url $EP --frobnicate|unknown argument"
)
for row in "${refusals[@]}"; do
  IFS='|' read -r name argline msg <<<"$row"
  read -ra a <<<"$argline"
  out=$("$DEPLOY" "${a[@]}" 2>&1 >/dev/null)
  rc=$?
  ((rc != 0)) && grep -qF -- "$msg" <<<"$out" && ok "refused: $name" || bad "refused: $name" "rc=$rc: $out"
done
aws --endpoint-url "$EP" sqs get-queue-url --queue-name refused-work >/dev/null 2>&1 &&
  bad "nothing created by refused runs" "refused-work exists" || ok "nothing created by refused runs"
finish
