#!/usr/bin/env bash
# deploy-local.sh -- create owls-q4d's buckets and queues on an AWS emulator
# (LocalStack, moto) with the aws CLI, and print a ready owls-q4.conf.
#
# The same resources as terraform/modules/core: the archive and artifacts
# buckets (versioning, SSE-S3 default encryption, public access block, bucket
# owner enforced, multipart/old-version lifecycle), the dead-letter queue, the
# work queue with the same redrive policy (maxReceiveCount >= 5) and a
# visibility timeout >= 6 x the longest job, the done queue and, with
# --s3-notification, the archive bucket's ObjectCreated notification under
# run= to the work queue (with its queue policy). Not created: IAM (emulators
# do not need it; terraform does it for AWS) and the TLS-only bucket policy
# (emulators are reached over plain HTTP).
#
# Idempotent: every run converges the same resources to the same settings.
# The config goes to stdout, progress to stderr. Credentials and region come
# from the usual AWS environment (AWS_ACCESS_KEY_ID=test etc. for emulators).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy-local.sh --endpoint-url URL [options] > owls-q4.conf

  --endpoint-url URL         emulator endpoint, e.g. http://127.0.0.1:4566 (required)
  --config-endpoint-url URL  endpoint_url written into the config (default: --endpoint-url;
                             differs when the daemon reaches the emulator by another name)
  --region REGION            default: $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1
  --prefix NAME              queue name prefix (default owls-q4)
  --archive-bucket NAME      default <prefix>-archive
  --artifacts-bucket NAME    default <prefix>-artifacts
  --longest-job-seconds N    default 10; the work queue's visibility is 6 x N ...
  --visibility-timeout N     ... unless given (must be >= 6 x longest job)
  --max-receive-count N      redrive after N receives (default 5, at least 5)
  --s3-notification          archive ObjectCreated events under run= go to the work queue
  --threads N                [worker] threads in the config (default 0)
  --log-level LEVEL          [log] level in the config (default info)
EOF
}

die() { echo "deploy-local: $*" >&2; exit 1; }
# in_range OPTION VALUE MIN MAX: a whole number in MIN..MAX, or die
in_range() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then die "$1: want a whole number in $3..$4, got '$2'"; fi
}
log() { echo "deploy-local: $*" >&2; }

endpoint="" conf_endpoint="" region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
prefix=owls-q4 archive="" artifacts="" longest=10 visibility="" max_receive=5
notify=0 threads=0 log_level=info
while (($#)); do
  case $1 in
    --endpoint-url) endpoint=${2:?}; shift ;;
    --config-endpoint-url) conf_endpoint=${2:?}; shift ;;
    --region) region=${2:?}; shift ;;
    --prefix) prefix=${2:?}; shift ;;
    --archive-bucket) archive=${2:?}; shift ;;
    --artifacts-bucket) artifacts=${2:?}; shift ;;
    --longest-job-seconds) longest=${2:?}; shift ;;
    --visibility-timeout) visibility=${2:?}; shift ;;
    --max-receive-count) max_receive=${2:?}; shift ;;
    --s3-notification) notify=1 ;;
    --threads) threads=${2:?}; shift ;;
    --log-level) log_level=${2:?}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

# --- validate (the same rules as terraform's variables) -----------------------
[[ -n $endpoint ]] || { usage >&2; die "--endpoint-url is required"; }
[[ $endpoint =~ ^https?://[^/?#]+/?$ ]] || die "--endpoint-url: want http(s)://host:port, got '$endpoint'"
endpoint=${endpoint%/}
conf_endpoint=${conf_endpoint:-$endpoint}
[[ $conf_endpoint =~ ^https?://[^/?#]+/?$ ]] || die "--config-endpoint-url: want http(s)://host:port"
[[ $region =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]$ ]] || die "--region: not a region name: '$region'"
[[ $prefix =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$ ]] || die "--prefix: 1-40 characters of [A-Za-z0-9_-]"
archive=${archive:-$prefix-archive}
artifacts=${artifacts:-$prefix-artifacts}
for b in "$archive" "$artifacts"; do
  [[ $b =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ && $b != *..* ]] || die "bucket name '$b' breaks S3's naming rules"
done
[[ $archive != "$artifacts" ]] || die "the archive and artifacts buckets must differ"
in_range --longest-job-seconds "$longest" 1 7200
visibility=${visibility:-$((6 * longest))}
in_range --visibility-timeout "$visibility" 0 43200
((visibility >= 6 * longest)) || die "--visibility-timeout $visibility < 6 x longest job ($((6 * longest)))"
in_range --max-receive-count "$max_receive" 5 1000
in_range --threads "$threads" 0 256
case $log_level in debug | info | notice | warning | err) ;; *) die "--log-level: debug|info|notice|warning|err" ;; esac
command -v aws >/dev/null || die "the aws CLI is not installed"

export AWS_PAGER="" AWS_DEFAULT_REGION=$region AWS_REGION=$region
# awscli v1 ignores AWS_ENDPOINT_URL: pass it explicitly, every call
awsx() { aws --endpoint-url "$endpoint" --region "$region" "$@"; }

# JSON string literal of $1 (the values here are ARNs, names and JSON we build)
jstr() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# --- buckets --------------------------------------------------------------------
bucket() {
  local b=$1
  if awsx s3api head-bucket --bucket "$b" >/dev/null 2>&1; then
    log "bucket $b exists"
  elif [[ $region == us-east-1 ]]; then
    awsx s3api create-bucket --bucket "$b" >/dev/null && log "bucket $b created"
  else
    awsx s3api create-bucket --bucket "$b" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null && log "bucket $b created"
  fi
  awsx s3api put-bucket-ownership-controls --bucket "$b" \
    --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
  awsx s3api put-public-access-block --bucket "$b" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  awsx s3api put-bucket-versioning --bucket "$b" --versioning-configuration Status=Enabled
  awsx s3api put-bucket-encryption --bucket "$b" --server-side-encryption-configuration \
    '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
  awsx s3api put-bucket-lifecycle-configuration --bucket "$b" --lifecycle-configuration \
    '{"Rules":[{"ID":"abort-incomplete-multipart-and-expire-old-versions","Status":"Enabled","Filter":{},
      "AbortIncompleteMultipartUpload":{"DaysAfterInitiation":2},"NoncurrentVersionExpiration":{"NoncurrentDays":30}}]}'
}

# --- queues ---------------------------------------------------------------------
# queue NAME ATTRIBUTES-JSON: create (by name only, which is idempotent) and
# converge the attributes; prints the URL.
queue() {
  local url
  url=$(awsx sqs create-queue --queue-name "$1" --query QueueUrl --output text)
  awsx sqs set-queue-attributes --queue-url "$url" --attributes "$2"
  log "queue $1 ready"
  printf '%s\n' "$url"
}
queue_arn() { awsx sqs get-queue-attributes --queue-url "$1" --attribute-names QueueArn --query Attributes.QueueArn --output text; }

log "endpoint $endpoint, region $region"
bucket "$archive"
bucket "$artifacts"

dlq_url=$(queue "$prefix-dlq" '{"MessageRetentionPeriod":"1209600","MaximumMessageSize":"262144","SqsManagedSseEnabled":"true"}')
dlq_arn=$(queue_arn "$dlq_url")
work_url=$(queue "$prefix-work" '{"MessageRetentionPeriod":"345600","MaximumMessageSize":"262144","ReceiveMessageWaitTimeSeconds":"20","SqsManagedSseEnabled":"true"}')
work_arn=$(queue_arn "$work_url")
redrive="{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":$max_receive}"
awsx sqs set-queue-attributes --queue-url "$work_url" \
  --attributes "{\"VisibilityTimeout\":\"$visibility\",\"RedrivePolicy\":$(jstr "$redrive")}"
allow="{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[\"$work_arn\"]}"
awsx sqs set-queue-attributes --queue-url "$dlq_url" --attributes "{\"RedriveAllowPolicy\":$(jstr "$allow")}" ||
  log "note: this emulator does not take RedriveAllowPolicy (harmless)"
log "work queue: visibility ${visibility}s, redrive to $prefix-dlq after $max_receive receives"
done_url=$(queue "$prefix-done" '{"MessageRetentionPeriod":"1209600","MaximumMessageSize":"262144","SqsManagedSseEnabled":"true"}')

# --- optional S3 -> SQS notification --------------------------------------------
if ((notify)); then
  account=$(cut -d: -f5 <<<"$work_arn")
  policy="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AllowArchiveObjectCreated\",\"Effect\":\"Allow\",
\"Principal\":{\"Service\":\"s3.amazonaws.com\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"$work_arn\",
\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::$archive\"},\"StringEquals\":{\"aws:SourceAccount\":\"$account\"}}}]}"
  awsx sqs set-queue-attributes --queue-url "$work_url" --attributes "{\"Policy\":$(jstr "${policy//$'\n'/}")}"
  awsx s3api put-bucket-notification-configuration --bucket "$archive" --notification-configuration \
    "{\"QueueConfigurations\":[{\"Id\":\"owls-q4-run-objects\",\"QueueArn\":\"$work_arn\",\"Events\":[\"s3:ObjectCreated:*\"],
      \"Filter\":{\"Key\":{\"FilterRules\":[{\"Name\":\"prefix\",\"Value\":\"run=\"}]}}}]}"
  log "notification: $archive ObjectCreated under run= -> $prefix-work"
fi

# --- the config (SPEC §7; the same template as terraform's) ---------------------
# The emulator builds queue URLs from the name it was called by; the daemon
# may know it by another (--config-endpoint-url): keep the path, swap the origin.
if [[ $conf_endpoint != "$endpoint" ]]; then
  origin=$(sed -E 's|^(https?://[^/]+).*|\1|' <<<"$work_url")
  work_url=${conf_endpoint%/}${work_url#"$origin"}
  done_url=${conf_endpoint%/}${done_url#"$origin"}
fi
cat <<EOF
# owls-q4.conf -- written by scripts/deploy-local.sh for $endpoint
[aws]
region = $region
endpoint_url = $conf_endpoint

[s3]
archive_bucket = $archive
artifacts_bucket = $artifacts
addressing = path

[sqs]
work_queue_url = $work_url
done_queue_url = $done_url
wait_time_seconds = 20
max_messages = 10
visibility_timeout = $visibility

[worker]
threads = $threads
max_input_bytes = 0
shutdown_grace_seconds = 60

[log]
level = $log_level
EOF
log "done"
