#!/usr/bin/env bash
# tests/integration/test_split_cli.sh -- black-box tests of `owls-q4 split`'s
# failure paths (SPEC sections 1 and 3), driven by tables of named cases.
#
#   OWLS_BUILD=build tests/integration/test_split_cli.sh     (or OWLS_Q4=path/to/owls-q4)
#
# Every data error must: exit with the sysexits status, print exactly one
# stderr line "owls-q4: <code>: <message>" whose message names the where
# (line, row, column), and leave NO file behind -- neither in the output
# directory (tried both when it exists beforehand and when it does not) nor
# beside it. Exit 0 when every case passes, 1 otherwise, 2 when the binary is
# missing. Needs bash and /usr/bin/python3 (for reading Q_study.json).
set -uo pipefail

BIN=${OWLS_Q4:-${OWLS_BUILD:-build}/owls-q4}
PY=/usr/bin/python3
if [[ ! -x $BIN ]]; then
  echo "test_split_cli: no executable owls-q4 at $BIN" >&2
  exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
W=$(mktemp -d "${TMPDIR:-/tmp}/owls-cli.XXXXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/in"
pass=0
fail=0
failed=()

ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$1"; }
bad() {
  fail=$((fail + 1)); failed+=("$1")
  printf 'FAIL %s\n' "$1"
  shift
  printf '    %s\n' "$@"
}

# A regex matching the integer $1 as a whole number inside a message.
num() { printf '(^|[^0-9])%s([^0-9]|$)' "$1"; }

# Files left in $1 (recursively), one per line; empty when none.
leftovers() { [[ -d $1 ]] && find "$1" -mindepth 1 -printf '%P\n' | sort; }

# check_stderr FILE CODE REGEX... -> prints problems (nothing when fine).
# CODE is an extended regex of the acceptable codes (e.g. 'input_not_found|io').
# A REGEX starting with '!' must NOT match the message.
check_stderr() {
  local f=$1 code=$2 lines msg re
  shift 2
  lines=$(wc -l <"$f")
  if [[ $lines != 1 || -n $(tail -c1 "$f") ]]; then
    echo "stderr is not exactly one line: $(head -c 400 "$f" | tr '\n' '|')"
    return
  fi
  msg=$(cat "$f")
  if [[ ! $msg =~ ^owls-q4:\ ($code):\ (.+)$ ]]; then
    echo "stderr: expected 'owls-q4: $code: <message>', got '$msg'"
    return
  fi
  msg=${BASH_REMATCH[2]}
  # the input's path is random (mktemp) and its name is the case's: neither
  # may satisfy a "names the line/row/column" check by accident
  if [[ -n ${CUR_INPUT:-} ]]; then
    msg=${msg//"$CUR_INPUT"/<input>}
    msg=${msg//"$(basename "$CUR_INPUT")"/<input>}
  fi
  for re in "$@"; do
    if [[ $re == '!'* ]]; then
      if grep -Eq -- "${re#!}" <<<"$msg"; then echo "message '$msg' must not match /${re#!}/"; fi
    elif ! grep -Eq -- "$re" <<<"$msg"; then
      echo "message '$msg' does not match /$re/"
    fi
  done
}

# run_err NAME STATUS CODE INPUT_PATH [REGEX...]: run split twice (output
# directory absent, then present and empty) and check status, stderr and
# leftovers each time.
run_err() {
  local name=$1 want=$2 code=$3 input=$4 probs=() mode dir out rc left p
  shift 4
  CUR_INPUT=$input
  for mode in absent present; do
    dir=$W/out/$name.$mode
    out=$dir/out
    mkdir -p "$dir"
    [[ $mode == present ]] && mkdir "$out"
    "$BIN" split "$input" -o "$out" --run-id cli-test-1 >"$dir.stdout" 2>"$dir.stderr"
    rc=$?
    [[ $rc == "$want" ]] || probs+=("[$mode] exit status: expected $want, got $rc")
    while IFS= read -r p; do
      [[ -n $p ]] && probs+=("[$mode] $p")
    done < <(check_stderr "$dir.stderr" "$code" "$@")
    left=$(leftovers "$dir")
    if [[ $left != "" && $left != "out" ]]; then
      probs+=("[$mode] files left behind: $(tr '\n' ' ' <<<"$left")")
    fi
  done
  CUR_INPUT=
  if ((${#probs[@]})); then bad "$name" "${probs[@]}"; else ok "$name"; fi
}

# data_err NAME CODE INPUT [REGEX...]: INPUT is printf %b text (\n, \r, \xHH).
data_err() {
  local name=$1 code=$2 input=$3
  shift 3
  printf '%b' "$input" >"$W/in/$name.csv"
  run_err "$name" 65 "$code" "$W/in/$name.csv" "$@"
}

# data_ok NAME INPUT PYEXPR: the split succeeds and PYEXPR holds for s, the
# parsed Q_study.json (e.g. 's["ignored_columns"] == ["b"]').
data_ok() {
  local name=$1 input=$2 expr=$3 out=$W/out/$1.ok rc
  printf '%b' "$input" >"$W/in/$name.csv"
  "$BIN" split "$W/in/$name.csv" -o "$out" --run-id cli-test-1 >/dev/null 2>"$out.stderr"
  rc=$?
  if [[ $rc != 0 ]]; then
    bad "$name" "expected success, got exit $rc: $(head -c 300 "$out.stderr")"
    return
  fi
  if ! "$PY" - "$out/Q_study.json" "$expr" <<'EOF' >"$out.py" 2>&1; then
import json, sys
s = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print("Q_study.json: %s does not hold; numeric_columns=%r ignored_columns=%r"
          % (sys.argv[2], s.get("numeric_columns"), s.get("ignored_columns")))
    sys.exit(1)
EOF
    bad "$name" "$(cat "$out.py")"
    return
  fi
  ok "$name"
}

echo "== data errors (SPEC 3): exit 65, one stderr line, nothing left behind"
#        name                       code                         input                                         message must match
data_err empty-file                 bad_csv                      ''                                            "$(num 1)"
data_err unterminated-quote         bad_csv                      'a,b\n1,2\n3,"4'                              "$(num 3)"
data_err unterminated-quote-multi   bad_csv                      'a,b\n1,2\n3,"4\n5,6\n'                       '[0-9]'
data_err ragged-row-long            bad_csv                      'a,b,c\n1,2,3\n4,5,6,7\n7,8,9\n'              "$(num 3)"
data_err ragged-row-short           bad_csv                      'a,b,c\n1,2,3\n4,5,6\n7,8\n'                  "$(num 4)"
data_err ragged-after-quoted-nl     bad_csv                      'a,b\n"x\ny",1\n2\n'                          "$(num 4)"
data_err ragged-crlf                bad_csv                      'a,b\r\n1,2\r\n3\r\n'                         "$(num 3)"
data_err blank-line-inside          bad_csv                      'a,b\n1,2\n\n3,4\n'                           "$(num 3)"
data_err blank-line-at-end          bad_csv                      'a,b\n1,2\n3,4\n\n'                           "$(num 4)"
data_err header-only                not_enough_rows              'a,b\n'
data_err header-only-no-eol         not_enough_rows              'a,b'
data_err one-data-row               not_enough_rows              'a,b\n1,2\n'
data_err one-numeric-column         not_enough_numeric_columns   'a,b\nx,1\ny,2\nz,3\n'
data_err no-numeric-column          not_enough_numeric_columns   'a,b\nx,p\ny,q\n'
data_err missing-value              missing_value                'alpha,beta,gamma\n1,2,3\n4,,6\n7,8,\n'       "$(num 2)" 'beta' '!gamma'
data_err missing-value-first-row    missing_value                'alpha,beta,gamma\n1,2,3\n4,5,\n,8,9\n'       "$(num 2)" 'gamma' '!alpha'
data_err missing-value-leftmost     missing_value                'alpha,beta,gamma\n1,2,3\n4,5,6\n7,,\n'       "$(num 3)" 'beta' '!gamma'
data_err missing-value-quoted-empty missing_value                'alpha,beta,gamma\n1,2,3\n"",5,6\n'           "$(num 2)" 'alpha'
# values that are not numbers make their column text: here that leaves d = 1
for v in nan NaN inf -inf Infinity 0x1p3 0x10 1e999 -1e999 1e e5 . + - 1.2.3 '1 2' '\t7' '7\t' \
         1_000 '"1,5"' '\xd9\xa1' '\xef\xbc\x91' 1d5 1f; do
  data_err "not-a-number:$v" not_enough_numeric_columns "a,b\n1,$v\n2,3\n4,5\n"
done

echo "== precedence: bad_csv > missing_value > not_enough_numeric_columns > not_enough_rows"
data_err bad-csv-before-missing     bad_csv                      'a,b,c\n1,,3\n4,5\n'                          "$(num 3)"
data_err bad-csv-before-rows        bad_csv                      'a,b\n1,2,3\n'                                "$(num 2)"
data_err bad-csv-blank-before-miss  bad_csv                      'a,b,c\n1,,x\n\n'                             "$(num 3)"
data_err missing-before-numeric     missing_value                'a,b\n1,x\n,y\n'                              "$(num 2)" '(^|[^a-z])a([^a-z]|$)'
data_err numeric-before-rows        not_enough_numeric_columns   'a,b\n1,x\n'

echo "== accepted inputs"
data_ok  all-empty-column-ignored   'a,b,c\n1,,3\n4,,6\n7,,9\n'         's["ignored_columns"] == ["b"] and s["numeric_columns"] == ["a", "c"]'
data_ok  all-empty-quoted-ignored   'a,b,c\n1,"",3\n4,"",6\n7,"",9\n'   's["ignored_columns"] == ["b"]'
data_ok  nan-column-is-text         'a,b,c\n1,2,nan\n3,4,5\n5,7,6\n'    's["ignored_columns"] == ["c"] and s["rows"] == 3'
data_ok  underflow-is-a-number      'a,b\n1e-400,1\n2,3\n4,7\n'         's["numeric_columns"] == ["a", "b"]'
data_ok  spaces-around-numbers      'a,b\n 1,2 \n  3  ,4\n5,  7\n'      's["numeric_columns"] == ["a", "b"]'
data_ok  no-final-newline           'a,b\n1,2\n3,5\n4,4'                's["rows"] == 3'

echo "== usage, input and output errors (SPEC 1)"
printf 'a,b\n1,2\n3,5\n4,4\n' >"$W/in/good.csv"
run_usage() {
  local name=$1 want=$2 code=$3 dir=$W/out/$1 probs=() p rc left
  shift 3
  mkdir -p "$dir"
  (cd "$dir" && "$BIN" "$@" >/dev/null 2>"$dir.stderr")
  rc=$?
  [[ $rc == "$want" ]] || probs+=("exit status: expected $want, got $rc")
  while IFS= read -r p; do [[ -n $p ]] && probs+=("$p"); done < <(check_stderr "$dir.stderr" "$code")
  left=$(leftovers "$dir")
  [[ -z $left ]] || probs+=("files left behind: $(tr '\n' ' ' <<<"$left")")
  if ((${#probs[@]})); then bad "$name" "${probs[@]}"; else ok "$name"; fi
}
run_usage usage-missing-o           64 usage split "$W/in/good.csv"
run_usage usage-o-without-value     64 usage split "$W/in/good.csv" -o
run_usage usage-unknown-option      64 usage split "$W/in/good.csv" -o out --frobnicate
run_usage usage-missing-input       64 usage split -o out
run_usage usage-unknown-command     64 usage splt "$W/in/good.csv" -o out
run_usage usage-no-arguments        64 usage

run_err   missing-input-file        66 'input_not_found|io' "$W/in/does-not-exist.csv"
run_err   input-is-a-directory      66 'input_not_found|io' "$W/in"

# An output directory that cannot be created or written: paths no user can
# create, and read-only directories (as root, run the binary as nobody there,
# since permission bits do not bind root).
printf 'x' >"$W/in/a-file"
AS=()
out_err() {
  local name=$1 out=$2 rc probs=() p
  "${AS[@]}" "$BIN" split "$W/in/good.csv" -o "$out" --run-id cli-test-1 >/dev/null \
    2>"$W/out/$name.stderr"
  rc=$?
  [[ $rc == 73 ]] || probs+=("exit status: expected 73, got $rc")
  [[ $(cat "$W/in/a-file") == x ]] || probs+=("the regular file $W/in/a-file was modified")
  while IFS= read -r p; do [[ -n $p ]] && probs+=("$p"); done < <(check_stderr "$W/out/$name.stderr" io)
  if ((${#probs[@]})); then bad "$name" "${probs[@]}"; else ok "$name"; fi
}
mkdir -p "$W/out"
out_err output-under-a-file         "$W/in/a-file/out"
out_err output-is-a-file            "$W/in/a-file"
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod 0755 "$W" "$W/in" "$W/out"
  chmod 0644 "$W/in/good.csv" "$W/in/a-file"
fi
if [[ $(id -u) != 0 ]] || ((${#AS[@]})) && "${AS[@]}" "$BIN" --version >/dev/null 2>&1; then
  mkdir -p "$W/ro/out" && chmod 0555 "$W/ro/out" "$W/ro"
  out_err output-dir-read-only      "$W/ro/out"
  out_err output-parent-read-only   "$W/ro/new"
  if [[ -n $(leftovers "$W/ro") && $(leftovers "$W/ro") != out ]]; then
    bad output-read-only-leftovers "files appeared in a read-only directory: $(leftovers "$W/ro")"
  fi
else
  echo "skip output-dir-read-only (root, and cannot run the binary as nobody)"
fi
AS=()

# An invalid --run-id is a data error (SPEC 2's pattern); nothing is written.
run_id_err() {
  local name=$1 id=$2 dir=$W/out/$1 rc probs=() p left
  mkdir -p "$dir"
  "$BIN" split "$W/in/good.csv" -o "$dir/out" --run-id "$id" >/dev/null 2>"$dir.stderr"
  rc=$?
  [[ $rc == 64 || $rc == 65 ]] || probs+=("exit status: expected 64 or 65, got $rc")
  while IFS= read -r p; do [[ -n $p ]] && probs+=("$p"); done < <(check_stderr "$dir.stderr" invalid_run_id)
  left=$(leftovers "$dir")
  [[ $left == "" || $left == "out" ]] || probs+=("files left behind: $(tr '\n' ' ' <<<"$left")")
  if ((${#probs[@]})); then bad "$name" "${probs[@]}"; else ok "$name"; fi
}
run_id_err run-id-with-slash         'a/b'
run_id_err run-id-leading-dot        '.hidden'
run_id_err run-id-too-long           "$(printf 'x%.0s' {1..129})"
run_id_err run-id-empty              ''

echo "test_split_cli: $pass passed, $fail failed${failed[*]:+: ${failed[*]}}"
((fail == 0))
