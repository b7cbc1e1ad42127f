#!/usr/bin/env bash
# tests/e2e/test_q4_pipeline.sh -- the whole pipeline, end to end, the way an
# operator would drive it: deploy -> start owls-q4d -> upload a CSV with the
# aws CLI -> `aws sqs send-message` the job -> wait for the done notification
# -> list and download the artifacts -> verify every sha256 against
# MANIFEST.json -> print er.json -> stop what it started.
#
#   tests/e2e/test_q4_pipeline.sh [--endpoint-url URL] [options]
#
#   --endpoint-url URL  an S3 + SQS emulator that is already running, e.g.
#                       LocalStack at http://127.0.0.1:4566; credentials and
#                       region from the usual AWS environment (default test /
#                       test / us-east-1). Default: start moto here on a free
#                       127.0.0.1 port with SigV4 + IAM checks on
#                       (tests/integration/moto/moto-up.sh), deploy as its
#                       admin user and run everything else -- the daemon AND
#                       the aws CLI -- as the restricted data-plane user
#                       (SPEC section 1); moto is stopped by PID at exit.
#   --build DIR         where owls-q4d (and owls-q4) are (default $OWLS_BUILD
#                       or build)
#   --input FILE        the CSV to run (default samples/sensors.csv)
#   --run-id ID         default e2e-<UTC time>-<pid>
#   --timeout SECONDS   how long to wait for each done notification (default 60)
#   --keep DIR          keep the downloaded artifacts and logs in DIR
#
# Checks, each printed as PASS/FAIL, ending with "N passed, N failed"
# (exit 0 only when none failed): the deployed config passes
# `owls-q4d --check-config`; the done notification is `succeeded` for our run
# and work message, with the input's row count; the artifacts prefix holds
# exactly the five files; every artifact's bytes and sha256 match
# MANIFEST.json, whose input bytes/sha256/ETag match the uploaded file; the
# work queue ends empty (the message was acked); the artifacts are
# byte-identical to a local `owls-q4 split` of the same file (SPEC section 3
# determinism); re-sending the same job gives `"duplicate": true` and leaves
# MANIFEST.json untouched; SIGTERM stops the daemon with exit 0.
#
# Runs against moto here (CI: no Docker on this machine, so LocalStack cannot
# be tried here). Against LocalStack, pass its URL; deploy-local.sh and the aws
# CLI work the same there, and the IAM policy is not enforced (LocalStack's
# community edition does not check IAM).
#
# OWLS_E2E_CONSUMER="CMD ARGS" replaces the daemon with another consumer that
# takes `-c CONFIG` (e.g. "python3 tests/bench/baseline_consumer.py", used to
# test this script itself); the owls-q4 cross-check and --check-config are then
# skipped and said so.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

endpoint="" build=${OWLS_BUILD:-build} input=$ROOT/samples/sensors.csv
run_id="e2e-$(date -u +%Y%m%d-%H%M%S)-$$" timeout=60 keep=""
usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --endpoint-url) endpoint=${2:?}; shift ;;
    --build) build=${2:?}; shift ;;
    --input) input=${2:?}; shift ;;
    --run-id) run_id=${2:?}; shift ;;
    --timeout) timeout=${2:?}; shift ;;
    --keep) keep=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test_q4_pipeline: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
[[ $build == /* ]] || build=$ROOT/$build
[[ $timeout =~ ^[0-9]+$ ]] || { echo "test_q4_pipeline: --timeout: whole seconds" >&2; exit 64; }

die() { echo "test_q4_pipeline: $*" >&2; exit 1; }
if [[ -n ${OWLS_E2E_CONSUMER:-} ]]; then
  read -r -a consumer <<<"$OWLS_E2E_CONSUMER"
  own_daemon=0
else
  consumer=("$build/owls-q4d")
  own_daemon=1
  [[ -x ${consumer[0]} ]] || die "no executable ${consumer[0]} (make BUILD=... \$BUILD/owls-q4d, or --build DIR)"
fi
[[ -r $input ]] || die "cannot read --input $input"
for t in aws python3 curl sha256sum; do command -v "$t" >/dev/null || die "$t is not on PATH"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/owls-e2e.XXXXXX")
DPID=""
# alive PID: running and not yet a zombie (kill -0 succeeds on an unreaped child)
alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s%% *} != Z ]]
}
cleanup() {
  if [[ -n $DPID ]] && alive "$DPID"; then
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 1 100); do alive "$DPID" || break; sleep 0.1; done
    alive "$DPID" && kill -KILL "$DPID" 2>/dev/null
  fi
  [[ -d $WORK/moto ]] && "$ROOT/tests/integration/moto/moto-down.sh" "$WORK/moto" 2>/dev/null
  if [[ -n $keep ]]; then
    mkdir -p "$keep" && cp -a "$WORK"/. "$keep"/ && echo "kept: $keep"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
step() { echo "== $*"; }
finish() {
  if ((fail)) && [[ -s $WORK/daemon.log ]]; then
    echo "--- consumer log (last 30 lines)"; tail -n 30 "$WORK/daemon.log"
  fi
  echo "$pass passed, $fail failed"
  exit $((fail ? 1 : 0))
}

export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS

# --- 1. the emulator ---------------------------------------------------------
if [[ -z $endpoint ]]; then
  step "start moto (SigV4 + IAM checks on) on 127.0.0.1"
  if ! "$ROOT/tests/integration/moto/moto-up.sh" 0 "$WORK/moto" >"$WORK/moto-env.out" 2>"$WORK/moto-up.log"; then
    cat "$WORK/moto-up.log" >&2
    die "moto did not start"
  fi
  # shellcheck disable=SC1091
  source "$WORK/moto/env.sh"
  unset AWS_SESSION_TOKEN AWS_PROFILE
  endpoint=$MOTO_ENDPOINT
  # deploy-local.sh changes the control plane: the admin user; the rest: restricted
  admin_env=(env "AWS_ACCESS_KEY_ID=$MOTO_ADMIN_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY=$MOTO_ADMIN_SECRET_ACCESS_KEY")
  echo "moto pid $MOTO_PID at $endpoint; daemon and aws CLI use the data-plane-only IAM user"
else
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
  admin_env=(env)
  curl -s -o /dev/null --max-time 5 "$endpoint/" || die "nothing answers at $endpoint"
fi
export AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
export AWS_DEFAULT_REGION=$AWS_REGION
awsx() { aws --endpoint-url "$endpoint" --region "$AWS_REGION" "$@"; }

# --- 2. deploy (idempotent) and check the printed config ---------------------
step "deploy: scripts/deploy-local.sh --endpoint-url $endpoint"
if "${admin_env[@]}" "$ROOT/scripts/deploy-local.sh" --endpoint-url "$endpoint" --region "$AWS_REGION" \
  --threads 2 >"$WORK/owls-q4.conf" 2>"$WORK/deploy.log"; then
  ok "deploy-local.sh printed a config"
else
  bad "deploy-local.sh" "$(tail -n 5 "$WORK/deploy.log")"
  finish
fi
conf() { # conf SECTION KEY -> value from the printed config
  python3 - "$WORK/owls-q4.conf" "$1" "$2" <<'EOF'
import configparser, sys
cp = configparser.ConfigParser(inline_comment_prefixes=("#",), interpolation=None)
cp.read(sys.argv[1])
print(cp.get(sys.argv[2], sys.argv[3]).strip())
EOF
}
ARCHIVE=$(conf s3 archive_bucket) ARTIFACTS=$(conf s3 artifacts_bucket)
WORKQ=$(conf sqs work_queue_url) DONEQ=$(conf sqs done_queue_url)
if ((own_daemon)); then
  if "${consumer[@]}" -c "$WORK/owls-q4.conf" --check-config >"$WORK/check.out" 2>&1; then
    ok "owls-q4d --check-config accepts the deployed config"
  else
    bad "owls-q4d --check-config" "$(tail -n 5 "$WORK/check.out")"
    finish
  fi
fi

# --- 3. the daemon -------------------------------------------------------------
step "start ${consumer[*]} -c owls-q4.conf"
TMPDIR=$WORK "${consumer[@]}" -c "$WORK/owls-q4.conf" >"$WORK/daemon.log" 2>&1 &
DPID=$!
echo "consumer pid $DPID, log in daemon.log"

# --- 4. upload and enqueue -------------------------------------------------------
base=$(basename "$input")
key="run=$run_id/input/$base"
step "upload $input to s3://$ARCHIVE/$key"
if awsx s3 cp --only-show-errors "$input" "s3://$ARCHIVE/$key"; then ok "input uploaded"; else bad "aws s3 cp"; finish; fi
body="{\"input_key\": \"$key\", \"run_id\": \"$run_id\"}"
step "aws sqs send-message --message-body '$body'"
mid=$(awsx sqs send-message --queue-url "$WORKQ" --message-body "$body" --query MessageId --output text) ||
  { bad "send-message"; finish; }
echo "work message id $mid"

# wait_done OUTFILE: the next done notification for our run id (deleted from
# the queue), or fail after --timeout seconds or when the consumer dies.
wait_done() {
  local deadline=$((SECONDS + timeout)) got
  while ((SECONDS < deadline)); do
    alive "$DPID" || { echo "the consumer exited" >&2; return 1; }
    awsx sqs receive-message --queue-url "$DONEQ" --max-number-of-messages 10 \
      --wait-time-seconds 5 --output json >"$WORK/recv.json" || return 1
    got=$(python3 - "$WORK/recv.json" "$run_id" "$1" <<'EOF'
import json, sys
path, run_id, out = sys.argv[1:4]
raw = open(path).read().strip()
for m in (json.loads(raw).get("Messages", []) if raw else []):
    try:
        d = json.loads(m["Body"])
    except ValueError:
        continue
    if d.get("run_id") == run_id:
        json.dump(d, open(out, "w"), indent=2)
        print(m["ReceiptHandle"])
        break
EOF
    )
    if [[ -n $got ]]; then
      awsx sqs delete-message --queue-url "$DONEQ" --receipt-handle "$got"
      return 0
    fi
  done
  echo "no done notification for run $run_id within ${timeout}s" >&2
  return 1
}

step "wait for the done notification (up to ${timeout}s)"
t0=$(date +%s%N)
if wait_done "$WORK/done.json"; then
  ok "done notification received after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
  bad "done notification"; finish
fi
cat "$WORK/done.json"; echo
rows=$(($(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))' "$input") - 1))
python3 - "$WORK/done.json" "$run_id" "$mid" "$ARCHIVE" "$key" "$ARTIFACTS" "$rows" <<'EOF' && ok "notification: succeeded, our run/message/input, rows add up" || bad "notification fields" "see above"
import json, sys
d = json.load(open(sys.argv[1]))
run_id, mid, archive, key, artifacts, rows = sys.argv[2:8]
checks = [
    ("schema", d.get("schema") == "owls-q4.done/1"),
    ("status succeeded", d.get("status") == "succeeded"),
    ("work_message_id", d.get("work_message_id") == mid),
    ("input", d.get("input") == {"bucket": archive, "key": key}),
    ("artifacts", d.get("artifacts") == {"bucket": artifacts, "prefix": f"run={run_id}/",
                                         "manifest": f"run={run_id}/MANIFEST.json"}),
    ("rows keep + discard = input rows", sum(d.get("rows", {}).values()) == int(rows)),
    ("not a duplicate", not d.get("duplicate")),
]
bad = [n for n, c in checks if not c]
for n in bad:
    print(f"  notification: {n} wrong", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# --- 5. list, download, verify ---------------------------------------------------
step "aws s3 ls s3://$ARTIFACTS/run=$run_id/"
awsx s3 ls "s3://$ARTIFACTS/run=$run_id/" | tee "$WORK/ls.txt"
names=$(awk '{print $4}' "$WORK/ls.txt" | sort | tr '\n' ' ')
want="MANIFEST.json Q_discard.csv Q_keep.csv Q_study.json er.json "
[[ $names == "$want" ]] && ok "exactly the five artifacts" || bad "artifact list" "got '$names', want '$want'"
step "download and verify sha256s against MANIFEST.json"
mkdir -p "$WORK/out"
awsx s3 cp --only-show-errors --recursive "s3://$ARTIFACTS/run=$run_id/" "$WORK/out/" || bad "download"
etag=$(awsx s3api head-object --bucket "$ARCHIVE" --key "$key" --query ETag --output text | tr -d '"')
python3 - "$WORK/out" "$input" "$ARCHIVE" "$key" "$etag" "$run_id" <<'EOF' && ok "MANIFEST.json matches the input and every artifact" || bad "MANIFEST verification" "see above"
import hashlib, json, os, sys
out, inp, archive, key, etag, run_id = sys.argv[1:7]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
m = json.load(open(os.path.join(out, "MANIFEST.json")))
errs = []
want_in = {"bucket": archive, "key": key, "etag": etag, "bytes": os.path.getsize(inp), "sha256": sha(inp)}
for k, v in want_in.items():
    if m["input"].get(k) != v:
        errs.append(f"input.{k}: {m['input'].get(k)!r} != {v!r}")
if m.get("schema") != "owls-q4.manifest/1" or m.get("run_id") != run_id:
    errs.append("schema/run_id")
names = sorted(a["name"] for a in m["artifacts"])
if names != ["Q_discard.csv", "Q_keep.csv", "Q_study.json", "er.json"]:
    errs.append(f"artifact names {names}")
for a in m["artifacts"]:
    p = os.path.join(out, a["name"])
    got = (os.path.getsize(p), sha(p)) if os.path.exists(p) else None
    ok = got == (a["bytes"], a["sha256"]) and a["key"] == f"run={run_id}/{a['name']}"
    print(f"  {a['name']:<14} {a['bytes']:>8} bytes  sha256 {a['sha256'][:16]}...  {'ok' if ok else 'MISMATCH'}")
    if not ok:
        errs.append(f"{a['name']}: got {got}, manifest says {(a['bytes'], a['sha256'])}")
for e in errs:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
step "er.json"
cat "$WORK/out/er.json" 2>/dev/null || bad "er.json missing"
echo

# the work message was acked: nothing left, visible or in flight
acked=0
for _ in $(seq 1 50); do
  n=$(awsx sqs get-queue-attributes --queue-url "$WORKQ" --output text --query \
    'join(`,`, [Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible])' \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible)
  [[ $n == 0,0 ]] && { acked=1; break; }
  sleep 0.2
done
((acked)) && ok "work queue empty: the message was deleted" || bad "work queue" "visible,in flight = $n"

# --- 6. the same bytes as a local run (SPEC section 3 determinism) -------------
if ((own_daemon)) && [[ -x $build/owls-q4 ]]; then
  if "$build/owls-q4" split "$input" -o "$WORK/local" --run-id "$run_id" >/dev/null 2>"$WORK/local.err"; then
    same=1
    for f in Q_keep.csv Q_discard.csv er.json; do
      cmp -s "$WORK/local/$f" "$WORK/out/$f" || { same=0; bad "$f differs from owls-q4 split's"; }
    done
    ((same)) && ok "Q_keep.csv, Q_discard.csv, er.json byte-identical to owls-q4 split"
  else
    bad "owls-q4 split" "$(head -c 300 "$WORK/local.err")"
  fi
else
  echo "(skipped: the owls-q4 split cross-check needs owls-q4d and owls-q4 from the same build)"
fi

# --- 7. a re-delivered job is a duplicate and changes nothing --------------------
step "send the same job again: expect \"duplicate\": true, MANIFEST.json untouched"
before=$(awsx s3api head-object --bucket "$ARTIFACTS" --key "run=$run_id/MANIFEST.json" --query '[ETag,LastModified]' --output text)
awsx sqs send-message --queue-url "$WORKQ" --message-body "$body" --query MessageId --output text >/dev/null
if wait_done "$WORK/done2.json"; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("status")=="succeeded" and d.get("duplicate") is True else 1)' \
    "$WORK/done2.json" && ok "second notification: succeeded, duplicate" || bad "second notification" "$(cat "$WORK/done2.json")"
  after=$(awsx s3api head-object --bucket "$ARTIFACTS" --key "run=$run_id/MANIFEST.json" --query '[ETag,LastModified]' --output text)
  [[ $before == "$after" ]] && ok "MANIFEST.json not rewritten" || bad "MANIFEST.json changed" "$before -> $after"
else
  bad "second done notification"
fi

# --- 8. stop ------------------------------------------------------------------------
step "stop the consumer (SIGTERM)"
kill -TERM "$DPID"
t0=$(date +%s%N)
for _ in $(seq 1 300); do alive "$DPID" || break; sleep 0.05; done
if alive "$DPID"; then
  bad "consumer still running 15 s after SIGTERM"
else
  wait "$DPID"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  DPID=""
  ((rc == 0)) && ok "consumer exited 0 after SIGTERM in $ms ms" || bad "consumer exit status" "$rc"
fi
finish
