#!/usr/bin/env bash
# tests/ops/test_systemd.sh -- the unit as `make install` writes it:
#  * `systemd-analyze verify` is clean (installed with PREFIX=<tmp>, no
#    DESTDIR, so ExecStart= names an existing file and MANPATH finds the
#    man pages of Documentation=);
#  * `systemd-analyze security --offline=true` exposure <= 2.0;
#  * the settings the daemon's contract depends on (table below);
#  * the sysusers.d snippet creates a system user in a scratch root;
#  * what libcurl (threaded resolver, TLS), OpenSSL, GSL and our programs
#    really call (strace) stays inside SystemCallFilter= and
#    RestrictAddressFamilies=.
# Env: OWLS_BUILD (build dir with the programs, default build),
#      OWLS_OPS_STUB_BINS=1 installs stub programs instead (unit checks only).
source "$(dirname "$0")/lib.sh"
cd "$OPS_ROOT" || exit 1
HERE=$OPS_ROOT/tests/ops
BUILD_DIR=${OWLS_BUILD:-build}
MAX_EXPOSURE=2.0

for t in systemd-analyze strace openssl curl; do
  command -v "$t" >/dev/null || { bad "tool $t" "not installed (make deps)"; finish; }
done

echo "== install into a scratch prefix"
P=$OPS_TMP/prefix
make_args=(--no-print-directory -s PREFIX="$P" SYSCONFDIR="$OPS_TMP/etc" BUILD="$BUILD_DIR" LIVE_SYSTEMD=false)
if [[ ${OWLS_OPS_STUB_BINS:-0} == 1 ]]; then
  mkdir -p "$OPS_TMP/stub"
  for b in owls-q4 owls-q4d; do printf '#!/bin/sh\nexit 0\n' >"$OPS_TMP/stub/$b" && chmod 755 "$OPS_TMP/stub/$b"; done
  make_args+=(BINS="$OPS_TMP/stub/owls-q4 $OPS_TMP/stub/owls-q4d")
fi
if ! make "${make_args[@]}" install >"$OPS_TMP/install.log" 2>&1; then
  bad "make install PREFIX=$P" "$(tail -n 5 "$OPS_TMP/install.log")"
  finish
fi
UNIT=$P/lib/systemd/system/owls-q4d.service
[[ -f $UNIT ]] && ok "unit installed at \$PREFIX/lib/systemd/system" || { bad "unit installed" "no $UNIT"; finish; }
if [[ ! -x $P/bin/owls-q4d ]]; then
  # the daemon is not in $(BINS) yet: verify against a stand-in at the same path
  echo "  (note: $BUILD_DIR/owls-q4d not built yet; a stub stands at $P/bin/owls-q4d)"
  printf '#!/bin/sh\nexit 0\n' >"$P/bin/owls-q4d" && chmod 755 "$P/bin/owls-q4d"
fi

echo "== systemd-analyze verify"
out=$(MANPATH=$P/share/man systemd-analyze verify "$UNIT" 2>&1)
rc=$?
if ((rc == 0)) && [[ -z $out ]]; then ok "verify: clean"; else bad "verify" "rc=$rc: $out"; fi
# ... and verify does see what it should: no binary, no man page -> errors
mv "$P/bin/owls-q4d" "$P/bin/owls-q4d.away"
out=$(MANPATH=$P/share/man systemd-analyze verify "$UNIT" 2>&1)
grep -q "is not executable" <<<"$out" && ok "verify: notices a missing ExecStart binary" || bad "verify negative" "$out"
mv "$P/bin/owls-q4d.away" "$P/bin/owls-q4d"

echo "== systemd-analyze security --offline=true"
out=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
exposure=$(sed -n 's/.*Overall exposure level for owls-q4d.service: \([0-9.]*\).*/\1/p' <<<"$out")
if [[ -n $exposure ]] && python3 -c "import sys; sys.exit(0 if float('$exposure') <= $MAX_EXPOSURE else 1)"; then
  ok "exposure $exposure <= $MAX_EXPOSURE"
else
  bad "exposure" "'$exposure' > $MAX_EXPOSURE:$(grep '✗' <<<"$out")"
fi
echo "$out" | grep '✗' | sed 's/^/    /'

echo "== settings the contract depends on"
# name | regex a line of the unit must match
settings=(
  "Type=notify|^Type=notify$"
  "NotifyAccess=main|^NotifyAccess=main$"
  "WatchdogSec=30|^WatchdogSec=30s?$"
  "Restart=on-failure|^Restart=on-failure$"
  "ExecStart substituted|^ExecStart=$P/bin/owls-q4d -c /etc/owls-q4\\.conf$"
  "ExecReload sends SIGHUP|^ExecReload=/bin/kill -HUP \\\$MAINPID$"
  "KillMode=mixed|^KillMode=mixed$"
  "EnvironmentFile optional|^EnvironmentFile=-/etc/default/owls-q4d$"
  "StateDirectory|^StateDirectory=owls-q4d$"
  "RuntimeDirectory|^RuntimeDirectory=owls-q4d$"
  "static user|^User=owls-q4d$"
  "UMask=0077|^UMask=0077$"
  "ProtectSystem=strict|^ProtectSystem=strict$"
  "ProtectHome=yes|^ProtectHome=yes$"
  "PrivateTmp|^PrivateTmp=yes$"
  "PrivateDevices|^PrivateDevices=yes$"
  "NoNewPrivileges|^NoNewPrivileges=yes$"
  "no capabilities|^CapabilityBoundingSet=$"
  "address families|^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$"
  "syscall allow list|^SystemCallFilter=@system-service$"
  "syscall deny list|^SystemCallFilter=~@privileged @resources$"
  "native syscalls only|^SystemCallArchitectures=native$"
  "MemoryDenyWriteExecute|^MemoryDenyWriteExecute=yes$"
  "ProtectProc=invisible|^ProtectProc=invisible$"
  "ProcSubset=pid|^ProcSubset=pid$"
  "no IPAddressDeny (S3/SQS/IMDS)|^#.*IPAddressDeny="
)
for row in "${settings[@]}"; do
  name=${row%%|*}
  re=${row#*|}
  grep -Eq -- "$re" "$UNIT" && ok "$name" || bad "$name" "no line matching /$re/"
done
grep -Eq '^IPAddress(Deny|Allow)=' "$UNIT" && bad "no IP allow list" "IPAddressDeny/Allow would cut S3, SQS or IMDS" || ok "no IP address filter set"
# TimeoutStopSec must outlast the daemon's shutdown grace period
grace=60
if [[ -f etc/owls-q4.conf ]]; then
  g=$(python3 "$HERE/conf_keys.py" --get etc/owls-q4.conf worker.shutdown_grace_seconds 2>/dev/null) && [[ $g =~ ^[0-9]+$ ]] && grace=$g
fi
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\?$/\1/p' "$UNIT")
if [[ -n $stop ]] && ((stop > grace + 10)); then ok "TimeoutStopSec=$stop > shutdown_grace_seconds ($grace) + 10"; else bad "TimeoutStopSec" "'$stop' not > $grace + 10"; fi
# every unit directive known to this systemd (verify warns on unknown ones too)
grep -q "Unknown key" <<<"$(systemd-analyze verify "$UNIT" 2>&1)" && bad "directives" "unknown key" || ok "all directives known to systemd $(systemctl --version | awk 'NR==1{print $2}')"

echo "== sysusers.d snippet"
R=$OPS_TMP/sysroot
mkdir -p "$R/etc"
cp /etc/passwd /etc/group "$R/etc/" 2>/dev/null
touch "$R/etc/shadow" "$R/etc/gshadow"
if out=$(systemd-sysusers --root="$R" "$P/lib/sysusers.d/owls-q4d.conf" 2>&1); then
  line=$(grep '^owls-q4d:' "$R/etc/passwd")
  IFS=: read -r _ _ uid gid _ home shell <<<"$line"
  if [[ -n $line && $uid -lt 1000 && $home == /var/lib/owls-q4d && $shell == */nologin ]] && grep -q "^owls-q4d:x:$gid:" "$R/etc/group"; then
    ok "sysusers: system user owls-q4d (uid $uid, nologin, home /var/lib/owls-q4d) and its group"
  else
    bad "sysusers" "passwd line: '$line'"
  fi
else
  bad "systemd-sysusers --root" "$out"
fi
unit_user=$(sed -n 's/^User=//p' "$UNIT")
grep -Eq "^u[[:space:]]+${unit_user}[[:space:]]" systemd/owls-q4d.sysusers && ok "User= matches the sysusers.d name" || bad "User=" "$unit_user not created by sysusers"

echo "== the filter keeps what libcurl, OpenSSL, glibc threads and the daemon need"
python3 "$HERE/syscalls.py" allowed "$UNIT" >"$OPS_TMP/allowed.txt"
need=(mmap munmap mprotect madvise brk mremap clone clone3 futex set_robust_list rseq getrandom
  socket connect getsockopt setsockopt getsockname getpeername sendto recvfrom sendmsg recvmsg sendmmsg
  poll ppoll epoll_create1 epoll_ctl epoll_wait epoll_pwait eventfd2 pipe2 signalfd4 timerfd_create
  timerfd_settime rt_sigaction rt_sigprocmask tgkill openat read write pread64 pwrite64 close fcntl
  newfstatat fstat statx lseek ftruncate fallocate fsync fdatasync renameat2 rename unlinkat mkdirat
  getdents64 uname sysinfo clock_gettime clock_nanosleep nanosleep prlimit64 sched_getaffinity
  sched_yield getpid gettid exit exit_group)
missing=()
for c in "${need[@]}"; do grep -qx "$c" "$OPS_TMP/allowed.txt" || missing+=("$c"); done
((${#missing[@]} == 0)) && ok "allowed: ${#need[@]} named calls (mmap, clone3, getrandom, epoll, signalfd, timerfd, ...)" ||
  bad "allowed" "filtered out: ${missing[*]}"
denied=()
for c in setuid setresuid setgroups capset chroot mount pivot_root setrlimit sched_setaffinity setpriority \
  ioprio_set reboot init_module kexec_load settimeofday clock_settime swapon bpf; do
  grep -qx "$c" "$OPS_TMP/allowed.txt" && denied+=("$c")
done
((${#denied[@]} == 0)) && ok "denied: privileged, resource, clock, module and reboot calls" || bad "denied" "still allowed: ${denied[*]}"

echo "== real system calls stay inside the filter"
traces=()
# 1. libcurl: threaded resolver (a name from /etc/hosts, resolved in a thread), TLS 1.3
host=$(hostname)
if [[ $(getent hosts "$host" | awk '{print $1; exit}') != 127.* ]]; then host=localhost; fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$OPS_TMP/k.pem" -out "$OPS_TMP/c.pem" -days 1 -subj "/CN=$host" >/dev/null 2>&1
port=$(free_port)
openssl s_server -www -accept "127.0.0.1:$port" -cert "$OPS_TMP/c.pem" -key "$OPS_TMP/k.pem" -quiet >/dev/null 2>&1 &
srv=$!
OPS_CLEANUP+=("kill $srv 2>/dev/null")
for _ in $(seq 100); do curl -sk -o /dev/null "https://127.0.0.1:$port/" && break; sleep 0.05; done
code=$(strace -f -qq -o "$OPS_TMP/curl.trace" curl -sk -o /dev/null -w '%{http_code}' --max-time 10 "https://$host:$port/")
kill "$srv" 2>/dev/null
[[ $code == 200 ]] && ok "traced: libcurl HTTPS GET via the threaded resolver" || bad "curl trace" "HTTP $code"
grep -q 'clone3\|clone(' "$OPS_TMP/curl.trace" && ok "trace includes the resolver thread" || echo "  (note: no thread seen in the curl trace)"
traces+=("$OPS_TMP/curl.trace")
# 2. our programs, when built: the Q4 split (GSL, files), the daemon's config check
if [[ ${OWLS_OPS_STUB_BINS:-0} != 1 && -x $BUILD_DIR/owls-q4 ]]; then
  printf 'a,b,label\n1,2,x\n3,5,y\n4,1,z\n-2,0.5,w\n' >"$OPS_TMP/in.csv"
  if strace -f -qq -o "$OPS_TMP/split.trace" "$BUILD_DIR/owls-q4" split "$OPS_TMP/in.csv" -o "$OPS_TMP/split-out" >/dev/null 2>&1; then
    ok "traced: owls-q4 split"
    traces+=("$OPS_TMP/split.trace")
  else
    bad "owls-q4 split" "failed under strace"
  fi
fi
if [[ ${OWLS_OPS_STUB_BINS:-0} != 1 && -x $BUILD_DIR/owls-q4d ]]; then
  conf=$OPS_TMP/daemon.conf
  if [[ -f etc/owls-q4.conf ]]; then cp etc/owls-q4.conf "$conf"; else cp terraform/modules/core/owls-q4.conf.tftpl "$conf"; fi
  strace -f -qq -o "$OPS_TMP/daemon.trace" "$BUILD_DIR/owls-q4d" -c "$conf" --check-config >/dev/null 2>&1
  ok "traced: owls-q4d --check-config (exit status not judged here)"
  traces+=("$OPS_TMP/daemon.trace")
fi
expect "syscalls and socket families inside the unit's filter" python3 "$HERE/syscalls.py" check "$UNIT" "${traces[@]}"
python3 "$HERE/syscalls.py" check "$UNIT" "${traces[@]}" | tail -n 1 | sed 's/^/    /'
# ... and the check does reject what the filter removes
printf '1234 sched_setaffinity(0, 8, [0]) = 0\n1234 socket(AF_NETLINK, SOCK_RAW, 0) = 3\n' >"$OPS_TMP/bad.trace"
out=$(python3 "$HERE/syscalls.py" check "$UNIT" "$OPS_TMP/bad.trace")
[[ $? == 1 ]] && grep -q sched_setaffinity <<<"$out" && grep -q AF_NETLINK <<<"$out" &&
  ok "filter check rejects @resources calls and AF_NETLINK" || bad "filter check negative" "$out"
finish
