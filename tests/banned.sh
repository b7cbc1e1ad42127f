#!/usr/bin/env bash
# tests/banned.sh FILE... -- fail if C sources call functions we never use:
# unbounded string copies, sprintf, strtok's hidden state, atoi's silent errors.
set -uo pipefail
pat='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\('
if grep -nE "$pat" "$@" /dev/null | grep -v 'banned-ok'; then
  echo "banned: the calls above are banned (see STYLE.md); use the bounded forms" >&2
  exit 1
fi
