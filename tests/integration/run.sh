#!/usr/bin/env bash
# tests/integration/run.sh -- the black-box tests: real binaries against real
# peers (moto on 127.0.0.1, the aws CLI, numpy's LAPACK). Every test starts
# and stops what it needs; a failing test fails the run, none is skipped.
#   OWLS_BUILD=build tests/integration/run.sh [NAME...]
set -uo pipefail
cd "$(dirname "$0")/../.."
export OWLS_BUILD=${OWLS_BUILD:-build}
PY=/usr/bin/python3   # Debian's, with numpy

tests=(
  "split-cli        bash tests/integration/test_split_cli.sh"
  "split-crosscheck $PY tests/integration/test_split_crosscheck.py"
  "aws-client       bash tests/integration/test_aws_client.sh"
  "cli-aws          bash tests/integration/test_cli_aws.sh"
  "parquet-equiv    bash tests/parquet/test_equivalence.sh"
  "pipeline         bash tests/e2e/test_q4_pipeline.sh --build $OWLS_BUILD"
)
for t in tests/integration/test_daemon_*.sh; do
  [[ -f $t ]] && tests+=("$(basename "$t" .sh) bash $t")
done

failed=()
for entry in "${tests[@]}"; do
  name=${entry%% *}; cmd=${entry#* }
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "=== integration: $name"
  start=$(date +%s)
  if eval "$cmd"; then
    echo "=== integration: $name ok ($(( $(date +%s) - start )) s)"
  else
    echo "=== integration: $name FAILED" >&2
    failed+=("$name")
  fi
done
if ((${#failed[@]})); then
  echo "integration: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "integration: all passed"
