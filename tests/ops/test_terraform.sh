#!/usr/bin/env bash
# tests/ops/test_terraform.sh -- static checks of terraform/ (terraform itself
# cannot be installed here): tests/ops/check_terraform.js parses every .tf
# file with @cdktf/hcl2json (installed by `npm ci` from package-lock.json) and
# checks IAM, variables, redrive, visibility, buckets and the launch template.
# Then each of a table of deliberate breakages must make it fail, the user
# data template must render to valid shell, and the tarball runtime package
# list must cover the libraries the built programs link.
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
HERE=$OPS_ROOT/tests/ops

echo "== npm ci (tests/ops)"
if ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >"$OPS_TMP/npm.log" 2>&1); then
  cat "$OPS_TMP/npm.log"
  bad "npm ci" "could not install @cdktf/hcl2json"
  finish
fi
ok "npm ci"

echo "== the tree as committed"
expect "terraform checks pass" node "$HERE/check_terraform.js" terraform etc/iam-actions.txt

echo "== each breakage is caught"
# name | file (relative to the copy) | old text | new text | expected message
mutations=(
  "extra action|terraform/modules/core/iam.tf|\"s3:PutObject\", \"s3:AbortMultipartUpload\"|\"s3:PutObject\", \"s3:AbortMultipartUpload\", \"s3:DeleteObject\"|grants more than"
  "action on a wider resource|terraform/modules/core/iam.tf|resources = [aws_sqs_queue.done.arn]|resources = [\"*\"]|is not one of the module's"
  "action on another queue|terraform/modules/core/iam.tf|resources = [aws_sqs_queue.done.arn]|resources = [aws_sqs_queue.done.arn, aws_sqs_queue.work.arn]|grants more than"
  "missing action|terraform/modules/core/iam.tf|\"sqs:ChangeMessageVisibility\", ||lacks"
  "actions file drifts from SPEC|etc/iam-actions.txt|s3:ListBucket |s3:ListBucketVersions |are not SPEC"
  "managed policy attached|terraform/modules/core/iam.tf|resource \"aws_iam_instance_profile\"|resource \"aws_iam_role_policy_attachment\" \"x\" {\n  role = aws_iam_role.daemon.name\n  policy_arn = \"arn:aws:iam::aws:policy/AmazonS3FullAccess\"\n}\n\nresource \"aws_iam_instance_profile\"|would widen"
  "required variable without validation|terraform/variables.tf|variable \"region\" {|variable \"unchecked\" {\n  type = string\n}\n\nvariable \"region\" {|has no validation block"
  "maxReceiveCount default below 5|terraform/modules/core/variables.tf|  default     = 5|  default     = 3|default 3 < 5"
  "maxReceiveCount validation too weak|terraform/modules/core/variables.tf|var.max_receive_count >= 5|var.max_receive_count >= 1|does not enforce >= 5"
  "maxReceiveCount hard-coded low|terraform/modules/core/main.tf|maxReceiveCount     = var.max_receive_count|maxReceiveCount     = 2|maxReceiveCount 2 < 5"
  "visibility precondition removed|terraform/modules/core/main.tf|local.visibility_timeout >= 6 * var.longest_job_seconds|local.visibility_timeout >= var.longest_job_seconds|no precondition"
  "small done messages|terraform/modules/core/main.tf|name                      = \"\${var.name_prefix}-done\"\n  message_retention_seconds = 1209600\n  max_message_size          = 262144|name                      = \"\${var.name_prefix}-done\"\n  message_retention_seconds = 1209600\n  max_message_size          = 1024|done queue: max_message_size"
  "versioning suspended|terraform/modules/core/main.tf|status = \"Enabled\"\n  }\n}|status = \"Suspended\"\n  }\n}|versioning not Enabled"
  "public policy allowed|terraform/modules/core/main.tf|block_public_policy     = true|block_public_policy     = false|public access"
  "IMDSv1 allowed|terraform/main.tf|http_tokens                 = \"required\"|http_tokens                 = \"optional\"|IMDSv2 not required"
  "notification without SourceAccount|terraform/modules/core/main.tf|variable = \"aws:SourceAccount\"|variable = \"aws:PrincipalAccount\"|aws:SourceAccount"
  "syntax error|terraform/outputs.tf|output \"dlq_url\" {|output \"dlq_url\" {{|does not parse"
)
for row in "${mutations[@]}"; do
  IFS='|' read -r name file old new msg <<<"$row"
  copy=$OPS_TMP/mut
  rm -rf "$copy" && mkdir -p "$copy/etc" && cp -r terraform "$copy/" && cp etc/iam-actions.txt "$copy/etc/"
  if ! python3 "$HERE/mutate.py" "$copy/$file" "$old" "$new"; then
    bad "$name" "could not apply the mutation (the tree changed: update the table)"
    continue
  fi
  out=$(cd "$copy" && node "$HERE/check_terraform.js" terraform etc/iam-actions.txt 2>&1)
  rc=$?
  if ((rc == 1)) && grep -qF -- "$msg" <<<"$out"; then ok "caught: $name"; else bad "caught: $name" "rc=$rc, expected '$msg' in: $(tail -n 3 <<<"$out")"; fi
done

echo "== user data renders to valid shell"
python3 - terraform/user-data.sh.tftpl "$OPS_TMP/user-data.sh" <<'PY'
import re, sys
src, dst = sys.argv[1], sys.argv[2]
t = open(src).read()
conf = "[aws]\nregion = us-east-1\n"
vals = {"package_url": "", "git_url": "https://example.invalid/owls-q4d.git", "git_ref": "main",
        "runtime_packages": "libcurl4 libssl3", "owls_q4_conf": conf}
left = re.findall(r"\$\{(?!\})([^}]*)\}|%\{", t)
unknown = [n for n in left if n not in vals]
if unknown:
    sys.exit(f"template uses undeclared interpolations or directives: {unknown}")
open(dst, "w").write(re.sub(r"\$\{(\w+)\}", lambda m: vals[m.group(1)], t))
PY
if [[ -s $OPS_TMP/user-data.sh ]]; then
  ok "user data: only the declared template variables"
  expect "user data: bash -n" bash -n "$OPS_TMP/user-data.sh"
  if command -v shellcheck >/dev/null; then
    expect "user data: shellcheck" shellcheck -s bash "$OPS_TMP/user-data.sh"
  fi
  # the variables main.tf passes are exactly the ones the template uses
  used=$(grep -o '\${[a-z0-9_]*}' terraform/user-data.sh.tftpl | tr -d '${}' | sort -u | tr '\n' ' ')
  passed=$(python3 -c 'import re,sys; m=re.search(r"user-data\.sh\.tftpl\", \{(.*?)\}\)\)", open(sys.argv[1]).read(), re.S); print(" ".join(sorted(set(re.findall(r"^\s*(\w+)\s*=", m.group(1), re.M)))) + " " if m else "")' terraform/main.tf)
  if [[ $used == "$passed" ]]; then ok "user data: main.tf passes exactly the template's variables"; else bad "user data variables" "template uses [$used], main.tf passes [$passed]"; fi
  grep -q "systemctl enable --now owls-q4d" "$OPS_TMP/user-data.sh" && grep -q "/etc/owls-q4.conf" "$OPS_TMP/user-data.sh" &&
    ok "user data: writes the config and enables the service" || bad "user data" "no config write or systemctl enable --now"
else
  bad "user data: only the declared template variables" "see above"
fi

echo "== rendered config template has SPEC §7's keys"
python3 "$HERE/conf_keys.py" --check terraform/modules/core/owls-q4.conf.tftpl >"$OPS_TMP/keys.out" 2>&1 &&
  ok "owls-q4.conf.tftpl keys" || bad "owls-q4.conf.tftpl keys" "$(cat "$OPS_TMP/keys.out")"

echo "== tarball runtime packages cover the programs' libraries"
bins=()
for b in owls-q4 owls-q4d; do [[ -x ${OWLS_BUILD:-build}/$b ]] && bins+=("${OWLS_BUILD:-build}/$b"); done
if ((${#bins[@]} == 0)); then
  echo "  (no built programs in ${OWLS_BUILD:-build}/: run through 'make ops-test' to check this)"
else
  need=$("$HERE/runtime-debs.sh" "${bins[@]}") || bad "runtime-debs.sh" "$need"
  have=$(sed -n '/variable "runtime_packages"/,/^}/p' terraform/variables.tf | grep -o '"[a-z0-9][a-z0-9+.-]*"' | tr -d '"' | sort -u)
  missing=$(comm -23 <(tr ' ' '\n' <<<"$need" | sort -u) <(echo "$have"))
  if [[ -z $missing ]]; then ok "runtime_packages covers $need"; else bad "runtime_packages" "missing: ${missing//$'\n'/ }"; fi
fi
finish
