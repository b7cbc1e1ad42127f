# tests/valgrind.d/cli_aws.sh -- sourced by tests/valgrind.sh ($ROOT, $BUILD,
# $W, vg_case, failed): `owls-q4 submit` and `owls-q4 results` under memcheck
# against a moto server (SigV4 + IAM checks on) started here and stopped by
# PID at the end, on the success paths and the main error paths. The AWS_*,
# MOTO_* and OWLS_* variables this file exports are restored afterwards.
# shellcheck shell=bash

CLI_VG_Q4=$BUILD/owls-q4
CLI_VG_STATE=$W/cli-moto
if [[ ! -x $CLI_VG_Q4 ]]; then
  : # valgrind.sh already reports the missing binary
elif [[ -n $FILTER && " cli-submit-ok cli-submit-generated-id cli-submit-bad-run-id cli-submit-no-file cli-submit-bad-config cli-submit-wrong-secret cli-results-ok cli-results-corrupt cli-results-error-json cli-results-not-there cli-results-bad-config " != *"$FILTER"* ]]; then
  : # none of the cases below is selected: do not start moto
elif ! "$ROOT/tests/integration/moto/moto-up.sh" 0 "$CLI_VG_STATE" >/dev/null 2>"$W/cli-moto-up.log"; then
  echo "FAIL cli-aws: moto did not start"
  tail -5 "$W/cli-moto-up.log" | sed 's/^/    /'
  failed+=(cli-aws-moto)
else
  CLI_VG_SAVED=$(export -p | grep -E '^declare -x (AWS_|MOTO_|OWLS_)')
  # shellcheck source=/dev/null
  source "$CLI_VG_STATE/env.sh"
  export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS
  cli_vg_admin() {
    AWS_ACCESS_KEY_ID=$MOTO_ADMIN_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_ADMIN_SECRET_ACCESS_KEY \
      aws --endpoint-url "$MOTO_ENDPOINT" --region us-east-1 "$@" >/dev/null
  }
  CLI_VG_CONF=$W/cli-owls-q4.conf
  cat >"$CLI_VG_CONF" <<EOF
[aws]
region = us-east-1
endpoint_url = $MOTO_ENDPOINT
[s3]
archive_bucket = $OWLS_ARCHIVE_BUCKET
artifacts_bucket = $OWLS_ARTIFACTS_BUCKET
addressing = path
[sqs]
work_queue_url = $OWLS_WORK_QUEUE_URL
done_queue_url = $OWLS_DONE_QUEUE_URL
EOF
  printf '[sqs]\nwait_time_seconds = 25\n' >"$W/cli-bad.conf"
  printf 'a,b,label\n1,2,x\n3,5,y\n4,1,z\n' >"$W/cli-data.csv"

  # a complete run (a split's output), a failed run, a corrupted run
  "$CLI_VG_Q4" split "$W/cli-data.csv" -o "$W/cli-split" --run-id vg-res-1 >/dev/null
  for f in Q_keep.csv Q_discard.csv Q_study.json er.json MANIFEST.json; do
    cli_vg_admin s3api put-object --bucket "$OWLS_ARTIFACTS_BUCKET" --key "run=vg-res-1/$f" \
      --body "$W/cli-split/$f"
    cli_vg_admin s3api put-object --bucket "$OWLS_ARTIFACTS_BUCKET" --key "run=vg-bad-1/$f" \
      --body "$W/cli-split/$f"
  done
  sed 's/vg-res-1/vg-bad-1/g' "$W/cli-split/MANIFEST.json" >"$W/cli-bad-manifest.json"
  cli_vg_admin s3api put-object --bucket "$OWLS_ARTIFACTS_BUCKET" --key run=vg-bad-1/MANIFEST.json \
    --body "$W/cli-bad-manifest.json"
  cli_vg_admin s3api put-object --bucket "$OWLS_ARTIFACTS_BUCKET" --key run=vg-bad-1/er.json \
    --body "$W/cli-data.csv"
  printf '{"schema": "owls-q4.error/1", "code": "bad_csv", "message": "line 3: 4 fields, the header has 3"}' \
    >"$W/cli-error.json"
  cli_vg_admin s3api put-object --bucket "$OWLS_ARTIFACTS_BUCKET" --key run=vg-err-1/ERROR.json \
    --body "$W/cli-error.json"

  vg_case cli-submit-ok            0  "$CLI_VG_Q4" submit -c "$CLI_VG_CONF" "$W/cli-data.csv" --run-id vg-sub-1
  vg_case cli-submit-generated-id  0  "$CLI_VG_Q4" submit -c "$CLI_VG_CONF" "$W/cli-data.csv"
  vg_case cli-submit-bad-run-id    65 "$CLI_VG_Q4" submit -c "$CLI_VG_CONF" "$W/cli-data.csv" --run-id ../x
  vg_case cli-submit-no-file       66 "$CLI_VG_Q4" submit -c "$CLI_VG_CONF" "$W/cli-nope.csv"
  vg_case cli-submit-bad-config    78 "$CLI_VG_Q4" submit -c "$W/cli-bad.conf" "$W/cli-data.csv"
  AWS_SECRET_ACCESS_KEY=wrong-secret \
    vg_case cli-submit-wrong-secret 69 "$CLI_VG_Q4" submit -c "$CLI_VG_CONF" "$W/cli-data.csv" --run-id vg-sub-2
  vg_case cli-results-ok           0  "$CLI_VG_Q4" results -c "$CLI_VG_CONF" vg-res-1 -o "$W/cli-r1"
  vg_case cli-results-corrupt      65 "$CLI_VG_Q4" results -c "$CLI_VG_CONF" vg-bad-1 -o "$W/cli-r2"
  vg_case cli-results-error-json   65 "$CLI_VG_Q4" results -c "$CLI_VG_CONF" vg-err-1 -o "$W/cli-r3"
  vg_case cli-results-not-there    75 "$CLI_VG_Q4" results -c "$CLI_VG_CONF" vg-none-1 -o "$W/cli-r4" --wait 1
  vg_case cli-results-bad-config   78 "$CLI_VG_Q4" results -c "$W/cli-bad.conf" vg-res-1 -o "$W/cli-r5"

  "$ROOT/tests/integration/moto/moto-down.sh" "$CLI_VG_STATE" 2>/dev/null
  for v in $(sed -n 's/^export \([A-Z_0-9]*\)=.*/\1/p' "$CLI_VG_STATE/env.sh") AWS_EC2_METADATA_DISABLED AWS_PAGER; do
    unset "$v"
  done
  eval "$CLI_VG_SAVED"
  unset -f cli_vg_admin
fi
