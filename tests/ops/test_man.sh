#!/usr/bin/env bash
# tests/ops/test_man.sh -- the man pages: groff -ww and mandoc -T lint are
# silent, `man -l` renders them without warnings, and they document what
# SPEC §1/§2/§5-§7 make an operator rely on (options, signals, exit codes,
# journald fields, every config key, the IAM actions of etc/iam-actions.txt).
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
HERE=$OPS_ROOT/tests/ops
PAGES=(man/owls-q4d.8 man/owls-q4.1 man/owls-q4.conf.5)

# lint PAGE: prints the problems, fails if there are any
lint() {
  local page=$1 out
  out=$(groff -ww -z -man "$page" 2>&1)
  if command -v mandoc >/dev/null; then
    out+=$(mandoc -T lint -W warning "$page" 2>&1)
  fi
  out+=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  [[ -z $out ]] || { printf '%s\n' "$out"; return 1; }
}

echo "== lint"
command -v mandoc >/dev/null || echo "  (note: mandoc missing, groff and man only; make deps installs it)"
for p in "${PAGES[@]}"; do expect "lint $p" lint "$p"; done
printf '.TH X 1 2025-01-01 x\n.SH NAME\nx \\- y\n.Bogus\n' >"$OPS_TMP/bad.1"
if lint "$OPS_TMP/bad.1" >/dev/null; then bad "lint catches an unknown macro" "bad.1 passed"; else ok "lint catches an unknown macro"; fi

echo "== names and sections"
for p in "${PAGES[@]}"; do
  base=$(basename "$p")
  sec=${base##*.}
  name=${base%.*}
  th=$(grep -m1 '^\.TH' "$p")
  [[ $th =~ ^\.TH\ ([^ ]+)\ ([0-9]) ]] && [[ ${BASH_REMATCH[2]} == "$sec" ]] &&
    [[ ${BASH_REMATCH[1]//\\/} == "${name^^}" ]] &&
    ok "$p: .TH names $name($sec)" || bad "$p: .TH" "$th"
  man -l "$p" 2>/dev/null | grep -q "^NAME" && ok "$p: renders a NAME section" || bad "$p: NAME"
done

# text PAGE: the page as a reader sees it (plain, unhyphenated, one line per paragraph)
text() { MANWIDTH=1000 MAN_KEEP_FORMATTING=0 man -l "$1" 2>/dev/null | col -b | sed 's/‐/-/g'; }

echo "== owls-q4d(8) documents the contract"
t8=$(text man/owls-q4d.8)
for w in -c --check-config --version --help SIGTERM SIGINT SIGHUP \
         RUN_ID INPUT_KEY WORK_MESSAGE_ID ERROR_CODE RECEIVE_COUNT \
         READY=1 WATCHDOG=1 STOPPING=1 STATUS= /etc/owls-q4.conf /etc/default/owls-q4d /var/lib/owls-q4d \
         AWS_REGION AWS_ENDPOINT_URL AWS_EC2_METADATA_DISABLED AWS_CA_BUNDLE shutdown_grace_seconds; do
  grep -qF -- "$w" <<<"$t8" || bad "owls-q4d.8 mentions $w" "missing"
done
ok "owls-q4d.8: options, signals, journald fields, sd_notify, files, environment"
for code in 0 1 64 73 78; do grep -Eq "^ +$code\b" <<<"$t8" || bad "owls-q4d.8 exit status $code" "missing"; done
ok "owls-q4d.8: exit statuses 0 1 64 73 78"
# the two spool locations of src/daemon/main.c and the retry delay of owls_job_retry_delay()
for w in '$STATE_DIRECTORY/spool' '$TMPDIR/owls-q4d.XXXXXX' 'errors/work-message-id.json' 'run=run_id/ERROR.json' \
         '10 seconds on its first receipt' --config; do
  grep -qF -- "$w" <<<"$t8" || bad "owls-q4d.8 mentions $w" "missing"
done
ok "owls-q4d.8: spool, error record locations, retry delay"
actions=$(grep -v '^#' etc/iam-actions.txt | awk 'NF {print $1}')
for a in $actions; do grep -qF "$a" <<<"$t8" || bad "owls-q4d.8 lists IAM action $a" "missing"; done
n_doc=$(grep -oE '\b(s3|sqs):[A-Za-z]+' <<<"$t8" | sort -u | wc -l)
[[ $n_doc == $(wc -w <<<"$actions") ]] && ok "owls-q4d.8: exactly the IAM actions of etc/iam-actions.txt" ||
  bad "owls-q4d.8 IAM actions" "$n_doc documented vs $(wc -w <<<"$actions")"

echo "== owls-q4(1)"
t1=$(text man/owls-q4.1)
for w in split submit results --run-id --wait -o -c -v --verbose --version --help 'owls-q4: code: message'; do
  grep -qF -- "$w" <<<"$t1" || bad "owls-q4.1 mentions $w" "missing"
done
for code in 0 64 65 66 69 73 74 75 78; do grep -Eq "(^| )$code\b" <<<"$t1" || bad "owls-q4.1 exit status $code" "missing"; done
ok "owls-q4.1: commands, options, error line, sysexits codes"

echo "== owls-q4.conf(5) documents every key"
t5=$(text man/owls-q4.conf.5 | sed -n '/^SECTIONS AND KEYS/,/^[A-Z]/p' | sed '1d')
keys=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import conf_keys as c; print(" ".join(f"[{s}]:{k}" for s, ks in c.SPEC_KEYS.items() for k in ks))' "$HERE")
for sk in $keys; do
  s=${sk%%:*}
  k=${sk#*:}
  # the key must appear after its section's heading, before the next one
  awk -v s="$s" -v k="$k" '$1 == s {on=1; next} /^ *\[[a-z]+\]$/ {on=0} on && $1 == k {found=1} END {exit !found}' <<<"$t5" ||
    bad "owls-q4.conf.5 documents $s $k" "missing under $s"
done
ok "owls-q4.conf.5: every SPEC §7 key under its section"
# the four keys without a default (src/daemon/config.c) say so
for k in archive_bucket artifacts_bucket work_queue_url done_queue_url; do
  awk -v k="$k" '$1 == k {on=1; next} on && /^       [a-z_]+$/ {exit} on && /Required, no default/ {found=1} END {exit !found}' <<<"$t5" ||
    bad "owls-q4.conf.5: $k is required" "not said under $k"
done
ok "owls-q4.conf.5: the required keys say so"
# its example (the one .EX block of EXAMPLES; other sections show output) is a valid config with every key
sed -n '/^\.SH EXAMPLES/,/^\.SH /p' man/owls-q4.conf.5 | sed -n '/^\.EX/,/^\.EE/p' >"$OPS_TMP/example.ex"
[[ $(grep -c '^\.EX' "$OPS_TMP/example.ex") == 1 ]] && ok "owls-q4.conf.5: EXAMPLES has one .EX block" ||
  bad "owls-q4.conf.5: EXAMPLES .EX blocks" "$(grep -c '^\.EX' "$OPS_TMP/example.ex") instead of 1"
sed '1d;$d' "$OPS_TMP/example.ex" | sed 's/\\-/-/g' >"$OPS_TMP/example.conf"
expect "owls-q4.conf.5: EXAMPLES block has exactly SPEC §7's keys" python3 "$HERE/conf_keys.py" --check "$OPS_TMP/example.conf"
finish
