#!/usr/bin/env bash
# moto-up.sh [PORT] [STATE_DIR] -- start a local S3 + SQS (+ IAM/SigV4 checks)
# emulator (moto) for the integration tests. The project's own copy of the
# team's reference launcher; needs curl and a python3 with moto 5.2 and boto3.
#
# * PORT omitted or 0: a free port on 127.0.0.1 chosen now; STATE_DIR omitted:
#   a new temporary directory. moto runs in the background; its PID is in
#   STATE_DIR/moto.pid, its log in STATE_DIR/moto.log.
# * waits until /moto-api/ answers, resets state, creates
#     buckets  owls-q4-archive, owls-q4-artifacts
#     queues   owls-q4-dlq, owls-q4-work (VisibilityTimeout 60, redrive -> dlq,
#              maxReceiveCount 3), owls-q4-done
#     IAM user owls-daemon: inline policy with ONLY the SPEC section 1
#              data-plane permissions, + access key
#     IAM user owls-admin:  "*" policy, + access key
# * switches SigV4 + IAM checking on (POST /moto-api/reset-auth 0) and
#   self-tests it (restricted key works, control plane denied, bad secret
#   refused)
# * prints `export ...` lines on stdout (also STATE_DIR/env.sh); logs -> stderr
#
# Env: MOTO_SIGFIX=1 (default) runs moto through moto_sigfix.py next to this
#      script (AWS-conformant canonical URIs in the verifier); 0 = stock.
#      MOTO_AUTH=0 leaves auth off. MOTO_READY_TIMEOUT (s, default 30).
#      MOTO_PYTHON (default python3).
# Stop with: moto-down.sh STATE_DIR   (by PID, never by name)
# Usage:     eval "$(tests/integration/moto/moto-up.sh)"
set -euo pipefail

PORT=${1:-0}
STATE_DIR=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${MOTO_PYTHON:-python3}
log() { echo "moto-up: $*" >&2; }

if [[ $PORT == 0 ]]; then
  PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fi
[[ -n $STATE_DIR ]] || STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/owls-moto.XXXXXX")
EP="http://127.0.0.1:$PORT"

mkdir -p "$STATE_DIR"
if [[ -f $STATE_DIR/moto.pid ]] && kill -0 "$(cat "$STATE_DIR/moto.pid")" 2>/dev/null; then
  log "already running (pid $(cat "$STATE_DIR/moto.pid")); run moto-down.sh $STATE_DIR first"; exit 1
fi
if curl -s -o /dev/null --max-time 1 "$EP/"; then
  log "port $PORT already answers; refusing to start"; exit 1
fi

if [[ ${MOTO_SIGFIX:-1} == 1 ]]; then
  CMD=("$PY" "$HERE/moto_sigfix.py" -H 127.0.0.1 -p "$PORT")
else
  CMD=(moto_server -H 127.0.0.1 -p "$PORT")
fi
t0=$(date +%s%N)
nohup "${CMD[@]}" >"$STATE_DIR/moto.log" 2>&1 &
PID=$!
echo "$PID" >"$STATE_DIR/moto.pid"
echo "$PORT" >"$STATE_DIR/moto.port"

deadline=$(( $(date +%s) + ${MOTO_READY_TIMEOUT:-30} ))
until curl -sf -o /dev/null --max-time 1 "$EP/moto-api/"; do
  if ! kill -0 "$PID" 2>/dev/null; then
    log "server exited early:"; tail -20 "$STATE_DIR/moto.log" >&2; rm -f "$STATE_DIR/moto.pid"; exit 1
  fi
  if (( $(date +%s) > deadline )); then
    log "not ready after ${MOTO_READY_TIMEOUT:-30}s"; kill "$PID"; rm -f "$STATE_DIR/moto.pid"; exit 1
  fi
  sleep 0.05
done
log "pid $PID ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms ($EP)"

trap 'log "setup failed; stopping pid $PID"; kill "$PID" 2>/dev/null; rm -f "$STATE_DIR/moto.pid"' ERR
# known state: auth off, empty backends (Content-Type must not be form-encoded)
curl -sf -X POST -H 'Content-Type: text/plain' --data-binary inf "$EP/moto-api/reset-auth" >/dev/null
curl -sf -X POST "$EP/moto-api/reset" >/dev/null

MOTO_EP=$EP MOTO_AUTH=${MOTO_AUTH:-1} MOTO_SIGFIX=${MOTO_SIGFIX:-1} STATE_DIR=$STATE_DIR PID=$PID "$PY" - <<'PYEOF' >"$STATE_DIR/env.sh"
import json, os, sys, urllib.request
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ep, region, acct = os.environ["MOTO_EP"], "us-east-1", "123456789012"
cfg = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
def cli(svc, ak="test", sk="test"):
    return boto3.client(svc, endpoint_url=ep, region_name=region, config=cfg,
                        aws_access_key_id=ak, aws_secret_access_key=sk)

s3, sqs, iam = cli("s3"), cli("sqs"), cli("iam")
for b in ("owls-q4-archive", "owls-q4-artifacts"):
    s3.create_bucket(Bucket=b)
dlq = sqs.create_queue(QueueName="owls-q4-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
work = sqs.create_queue(QueueName="owls-q4-work", Attributes={
    "VisibilityTimeout": "60",
    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})["QueueUrl"]
done = sqs.create_queue(QueueName="owls-q4-done")["QueueUrl"]

# SPEC section 1: the daemon's data-plane permissions, nothing else
buckets = ["arn:aws:s3:::owls-q4-archive", "arn:aws:s3:::owls-q4-artifacts"]
policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": "S3Data", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"],
     "Resource": buckets + [b + "/*" for b in buckets]},
    {"Sid": "SQSData", "Effect": "Allow",
     "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                "sqs:SendMessage", "sqs:GetQueueAttributes",
                # moto 5.2 authorises the batch calls as sqs:<Operation>; AWS has no such
                # IAM actions (the batches need sqs:DeleteMessage and
                # sqs:ChangeMessageVisibility), so these two names grant nothing on AWS
                "sqs:DeleteMessageBatch", "sqs:ChangeMessageVisibilityBatch"],
     "Resource": f"arn:aws:sqs:{region}:{acct}:owls-q4-*"}]}
keys = {}
for user, doc in (("owls-daemon", policy),
                  ("owls-admin", {"Version": "2012-10-17", "Statement": [
                      {"Effect": "Allow", "Action": "*", "Resource": "*"}]})):
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName=user + "-inline", PolicyDocument=json.dumps(doc))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])

if os.environ["MOTO_AUTH"] == "1":
    req = urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req).read()
    ak, sk = keys["owls-daemon"]
    d_sqs, d_s3 = cli("sqs", ak, sk), cli("s3", ak, sk)
    def expect(code, fn):
        try:
            fn(); got = "OK"
        except ClientError as e:
            got = e.response["Error"]["Code"] or str(e.response["ResponseMetadata"]["HTTPStatusCode"])
            if code in str(e): got = code   # moto sends SQS auth errors as XML; botocore can't parse
        if got != code:
            sys.exit(f"moto-up: self-test failed: expected {code}, got {got}")
    expect("OK", lambda: d_sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["QueueArn"]))
    # stock moto only verifies keys made of [A-Za-z0-9-._~/]; sigfix handles all
    key = "_selftest/run=0/é x.txt" if os.environ["MOTO_SIGFIX"] == "1" else "_selftest/plain.txt"
    expect("OK", lambda: d_s3.put_object(Bucket="owls-q4-archive", Key=key, Body=b"x"))
    expect("OK", lambda: d_s3.get_object(Bucket="owls-q4-archive", Key=key)["Body"].read())
    expect("AccessDenied", lambda: d_s3.create_bucket(Bucket="owls-q4-denied"))
    expect("AccessDenied", lambda: d_sqs.create_queue(QueueName="owls-q4-denied"))
    expect("SignatureDoesNotMatch", lambda: cli("sqs", ak, sk + "x").get_queue_attributes(QueueUrl=work))
    a_ak, a_sk = keys["owls-admin"]
    cli("s3", a_ak, a_sk).delete_object(Bucket="owls-q4-archive", Key=key)

out = {
    "MOTO_ENDPOINT": ep, "MOTO_PID": os.environ["PID"], "MOTO_STATE_DIR": os.environ["STATE_DIR"],
    "MOTO_AUTH": os.environ["MOTO_AUTH"],
    "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
    "AWS_ACCESS_KEY_ID": keys["owls-daemon"][0], "AWS_SECRET_ACCESS_KEY": keys["owls-daemon"][1],
    "MOTO_ADMIN_ACCESS_KEY_ID": keys["owls-admin"][0], "MOTO_ADMIN_SECRET_ACCESS_KEY": keys["owls-admin"][1],
    "OWLS_ARCHIVE_BUCKET": "owls-q4-archive", "OWLS_ARTIFACTS_BUCKET": "owls-q4-artifacts",
    "OWLS_WORK_QUEUE_URL": work, "OWLS_DONE_QUEUE_URL": done, "OWLS_DLQ_URL": dlq,
}
for k, v in out.items():
    print(f"export {k}='{v}'")
PYEOF
trap - ERR
cat "$STATE_DIR/env.sh"
log "resources created; auth $([[ ${MOTO_AUTH:-1} == 1 ]] && echo ON || echo off); env in $STATE_DIR/env.sh"
