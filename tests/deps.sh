#!/usr/bin/env bash
# tests/deps.sh PKG... -- install the Debian packages that are missing.
# Idempotent: a no-op (no apt-get update, no root needed) when all are present.
set -euo pipefail
# A package may be satisfied by a command already on PATH: Debian's npm
# cannot be installed next to NodeSource's nodejs, which bundles npm.
declare -A provided_by=([npm]=npm [nodejs]=node)
missing=()
for p in "$@"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    continue
  fi
  cmd=${provided_by[$p]:-}
  if [[ -n $cmd ]] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#@} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
if [[ $(id -u) != 0 ]]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
