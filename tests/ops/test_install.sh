#!/usr/bin/env bash
# tests/ops/test_install.sh -- `make install` / `make uninstall` into scratch
# DESTDIRs: the exact tree, modes and substituted paths for PREFIX=/usr and
# PREFIX=/usr/local, an operator's modified (or symlinked) /etc/owls-q4.conf
# survives a second install and the uninstall, and uninstall removes every
# other file install added.
# Env: OWLS_BUILD (default build); OWLS_OPS_STUB_BINS=1 installs stub programs.
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
BUILD_DIR=${OWLS_BUILD:-build}

mk=(make --no-print-directory -s BUILD="$BUILD_DIR" LIVE_SYSTEMD=false)
if [[ ${OWLS_OPS_STUB_BINS:-0} == 1 ]]; then
  mkdir -p "$OPS_TMP/stub"
  for b in owls-q4 owls-q4d; do printf '#!/bin/sh\necho %s\n' "$b" >"$OPS_TMP/stub/$b" && chmod 755 "$OPS_TMP/stub/$b"; done
  mk+=(BINS="$OPS_TMP/stub/owls-q4 $OPS_TMP/stub/owls-q4d")
fi
# the programs install should copy: $(BINS) as make sees it
bins=$("${mk[@]}" -f Makefile -f - print-bins <<<'print-bins: ; @echo $(BINS)')
[[ -n $bins ]] || { bad "BINS" "make prints no \$(BINS)"; finish; }
echo "programs: $bins"

# tree DESTDIR -> "mode path" lines of every file and symlink, sorted
tree() { (cd "$1" && find . \( -type f -o -type l \) -printf '%m %p\n' | sed 's| \./| /|' | sort -k2); }

# expected "mode path" lines for PREFIX=$1 (unit dir $2)
expected() {
  local prefix=$1 unitdir=$2 b
  for b in $bins; do echo "755 $prefix/bin/$(basename "$b")"; done
  echo "644 $unitdir/owls-q4d.service"
  echo "644 $prefix/lib/sysusers.d/owls-q4d.conf"
  echo "644 $prefix/share/man/man1/owls-q4.1"
  echo "644 $prefix/share/man/man5/owls-q4.conf.5"
  echo "644 $prefix/share/man/man8/owls-q4d.8"
  [[ -f etc/owls-q4.conf ]] && echo "644 /etc/owls-q4.conf"
  return 0
}

# name | PREFIX | unit dir
layouts=(
  "Debian /usr|/usr|/lib/systemd/system"
  "default /usr/local|/usr/local|/usr/local/lib/systemd/system"
)
for row in "${layouts[@]}"; do
  IFS='|' read -r name prefix unitdir <<<"$row"
  D=$OPS_TMP/root-${prefix//\//_}
  echo "== $name: fresh install"
  if ! "${mk[@]}" install PREFIX="$prefix" DESTDIR="$D" >"$OPS_TMP/log" 2>&1; then
    bad "$name: make install" "$(tail -n 5 "$OPS_TMP/log")"
    continue
  fi
  diff <(expected "$prefix" "$unitdir" | sort -k2) <(tree "$D") >"$OPS_TMP/diff" &&
    ok "$name: exact tree and modes" || bad "$name: tree" "$(cat "$OPS_TMP/diff")"
  u=$D$unitdir/owls-q4d.service
  grep -qx "ExecStart=$prefix/bin/owls-q4d -c /etc/owls-q4.conf" "$u" && ! grep -q '@[A-Z]*@' "$u" &&
    ok "$name: ExecStart=$prefix/bin/owls-q4d, no @PLACEHOLDER@ left" || bad "$name: unit" "$(grep -n 'Exec\|@' "$u")"
  cmp -s <(sed "s|@BINDIR@|$prefix/bin|g" systemd/owls-q4d.service) "$u" &&
    ok "$name: unit is the source with only @BINDIR@ replaced" || bad "$name: unit differs beyond @BINDIR@"
  for b in $bins; do
    cmp -s "$b" "$D$prefix/bin/$(basename "$b")" || bad "$name: $(basename "$b")" "installed copy differs from $b"
  done
  cmp -s man/owls-q4d.8 "$D$prefix/share/man/man8/owls-q4d.8" && ok "$name: man pages are the sources" || bad "$name: man" "differs"
  if [[ -f etc/owls-q4.conf ]]; then
    cmp -s etc/owls-q4.conf "$D/etc/owls-q4.conf" && ok "$name: /etc/owls-q4.conf from etc/owls-q4.conf" || bad "$name: config" "differs"
  else
    grep -q "no etc/owls-q4.conf" "$OPS_TMP/log" && [[ ! -e $D/etc/owls-q4.conf ]] &&
      ok "$name: no etc/owls-q4.conf in the tree yet: install says so, installs none" || bad "$name: config guard" "$(cat "$OPS_TMP/log")"
  fi

  echo "== $name: the operator's config survives"
  printf '# edited by the operator\n[log]\nlevel = debug\n' >"$D/etc/owls-q4.conf"
  cp -p "$D/etc/owls-q4.conf" "$OPS_TMP/operator.conf"
  "${mk[@]}" install PREFIX="$prefix" DESTDIR="$D" >"$OPS_TMP/log" 2>&1 || bad "$name: second install" "$(tail -n 5 "$OPS_TMP/log")"
  cmp -s "$OPS_TMP/operator.conf" "$D/etc/owls-q4.conf" && ok "$name: modified config kept by a second install" || bad "$name: config overwritten"
  if [[ -f etc/owls-q4.conf ]]; then
    grep -q "keeping the existing" "$OPS_TMP/log" && ok "$name: install says it kept the config" || bad "$name: install message" "$(cat "$OPS_TMP/log")"
  fi
  mv "$D/etc/owls-q4.conf" "$D/etc/owls-q4.conf.real" && ln -s owls-q4.conf.real "$D/etc/owls-q4.conf"
  "${mk[@]}" install PREFIX="$prefix" DESTDIR="$D" >"$OPS_TMP/log" 2>&1
  [[ -L $D/etc/owls-q4.conf && $(readlink "$D/etc/owls-q4.conf") == owls-q4.conf.real ]] &&
    ok "$name: symlinked config kept" || bad "$name: symlink replaced"
  rm "$D/etc/owls-q4.conf" && mv "$D/etc/owls-q4.conf.real" "$D/etc/owls-q4.conf"

  echo "== $name: uninstall"
  "${mk[@]}" uninstall PREFIX="$prefix" DESTDIR="$D" >"$OPS_TMP/log" 2>&1 || bad "$name: make uninstall" "$(tail -n 5 "$OPS_TMP/log")"
  left=$(tree "$D")
  [[ $left == "644 /etc/owls-q4.conf" ]] && cmp -s "$OPS_TMP/operator.conf" "$D/etc/owls-q4.conf" &&
    ok "$name: uninstall removed everything but the operator's config" || bad "$name: after uninstall" "$left"
  "${mk[@]}" uninstall PREFIX="$prefix" DESTDIR="$D" >"$OPS_TMP/log" 2>&1 &&
    ok "$name: a second uninstall is harmless" || bad "$name: second uninstall" "$(tail -n 5 "$OPS_TMP/log")"
done

echo "== paths can be overridden"
D=$OPS_TMP/root-custom
"${mk[@]}" install PREFIX=/opt/owls UNITDIR=/etc/systemd/system MANDIR=/opt/owls/man DESTDIR="$D" >"$OPS_TMP/log" 2>&1
[[ -f $D/etc/systemd/system/owls-q4d.service && -f $D/opt/owls/man/man8/owls-q4d.8 ]] &&
  grep -qx "ExecStart=/opt/owls/bin/owls-q4d -c /etc/owls-q4.conf" "$D/etc/systemd/system/owls-q4d.service" &&
  ok "UNITDIR, MANDIR and PREFIX overrides honoured" || bad "overrides" "$(tree "$D")"
finish
