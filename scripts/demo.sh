#!/usr/bin/env bash
# scripts/demo.sh -- `make demo`: the whole product in one command, on one
# machine, in under two minutes: install what is missing, build, start an
# S3 + SQS emulator (moto) on 127.0.0.1, deploy the buckets and queues with
# scripts/deploy-local.sh, start owls-q4d, upload samples/sensors.csv with the
# aws CLI, enqueue it with `aws sqs send-message`, wait for the done
# notification, list the artifacts, verify them against MANIFEST.json, print
# er.json, and stop everything it started (also on Ctrl-C or failure).
#
#   make demo [BUILD=build]        or      scripts/demo.sh [--build DIR] [--input FILE]
#
# Steps 3-9 are tests/e2e/test_q4_pipeline.sh (the CI's end-to-end test), so
# the demo and the test cannot drift apart; its PASS/FAIL lines double as the
# demo's narration. Nothing is left behind but the build directory.
#
# Needs: Debian 12 (`make deps` installs the Debian packages, with sudo when
# not root), and a python3 with moto 5.2.1 (moto_server), boto3 and awscli v1.
# Debian has no moto package: when moto_server, aws or boto3 is missing, the
# demo creates a virtualenv in $BUILD/demo-venv and installs the versions
# pinned below with pip (needs network access to PyPI; a second run reuses it).
# OWLS_DEMO_NO_DEPS=1 skips `make deps` (for machines you do not administer).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
input=samples/sensors.csv
while (($#)); do
  case $1 in
    --build) BUILD=${2:?}; shift ;;
    --input) input=${2:?}; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
# the versions the project's moto harness is tested with (moto_sigfix.py patches moto 5.2.1)
PIP_PINS=("moto[server]==5.2.1" "awscli==1.45.11" "boto3")

t_start=$(date +%s%N)
elapsed() { printf '%d.%d s' $(( ($(date +%s%N) - t_start) / 1000000000 )) $(( ($(date +%s%N) - t_start) / 100000000 % 10 )); }
say() { printf '\n### [%s] %s\n' "$(elapsed)" "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

say "1/3 Debian packages (make deps)"
if [[ ${OWLS_DEMO_NO_DEPS:-0} == 1 ]]; then
  echo "skipped (OWLS_DEMO_NO_DEPS=1)"
else
  # A failure here is not fatal by itself: a machine may carry a package under
  # another name (e.g. NodeSource's nodejs bundles npm, so Debian's npm cannot
  # be installed next to it). The build below says what is really missing.
  make --no-print-directory deps ||
    echo "demo: WARNING: make deps failed (see above); continuing with what is installed" >&2
fi

# the emulator and the aws CLI: from PATH, else a virtualenv of our own
have_py_tools() { command -v moto_server >/dev/null && command -v aws >/dev/null && python3 -c 'import boto3' 2>/dev/null; }
if ! have_py_tools; then
  venv=$ROOT/$BUILD/demo-venv
  [[ $BUILD == /* ]] && venv=$BUILD/demo-venv
  if [[ ! -x $venv/bin/moto_server ]]; then
    say "moto, boto3 or the aws CLI missing: pip install ${PIP_PINS[*]} into $venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet "${PIP_PINS[@]}" ||
      die "pip could not install ${PIP_PINS[*]} (no access to PyPI?); install them into the python3 on PATH and rerun"
  fi
  export PATH=$venv/bin:$PATH
  have_py_tools || die "still no moto_server/aws/boto3 after installing them into $venv"
fi

say "2/3 build owls-q4d and owls-q4 into $BUILD/"
make --no-print-directory -j"$(nproc)" BUILD="$BUILD" "$BUILD/owls-q4d" "$BUILD/owls-q4" ||
  die "the build failed"

say "3/3 the pipeline: moto -> deploy -> owls-q4d -> upload + send-message -> done -> artifacts"
tests/e2e/test_q4_pipeline.sh --build "$BUILD" --input "$input" --run-id "demo-$(date -u +%Y%m%d-%H%M%S)"
rc=$?

secs=$(( ($(date +%s%N) - t_start) / 1000000000 ))
if ((rc == 0)); then
  say "demo finished in $secs s (target: under 120 s); everything it started is stopped"
else
  say "demo FAILED after $secs s (exit $rc); everything it started is stopped"
fi
exit "$rc"
