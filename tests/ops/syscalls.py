#!/usr/bin/env python3
"""syscalls.py -- is what a program really calls inside a unit's filter?

  syscalls.py allowed UNIT           print the syscalls UNIT's SystemCallFilter=
                                     lines allow (groups expanded recursively
                                     with `systemd-analyze syscall-filter`)
  syscalls.py check UNIT TRACE...    read `strace -f -o TRACE` files; list every
                                     syscall and socket family used outside the
                                     unit's SystemCallFilter=/RestrictAddressFamilies=;
                                     exit 1 if any
"""
import re
import subprocess
import sys

_groups = {}


def expand(name):
    """@group -> set of syscall names (recursively); a syscall -> {itself}."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                             capture_output=True, text=True).stdout
        members = set()
        for line in out.splitlines()[1:]:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            members |= expand(s.split()[0])
        _groups[name] = members
    return _groups[name]


def unit_settings(unit):
    filt, families = [], None
    for line in open(unit, encoding="utf-8"):
        m = re.match(r"\s*(SystemCallFilter|RestrictAddressFamilies)\s*=\s*(.*)$", line)
        if not m:
            continue
        if m.group(1) == "SystemCallFilter":
            filt.append(m.group(2).strip())
        else:
            families = m.group(2).split()
    return filt, families


def allowed(unit):
    filt, _ = unit_settings(unit)
    allow = None
    for value in filt:
        if not value:
            allow = None
            continue
        deny = value.startswith("~")
        names = value.lstrip("~").split()
        members = set().union(*(expand(n) for n in names))
        if deny:
            allow = (allow if allow is not None else set()) - members
        else:
            allow = (allow or set()) | members
    if allow is None:
        sys.exit(f"{unit}: no SystemCallFilter= allow list")
    return allow


CALL = re.compile(r"^(?:\[pid\s+)?\d*\]?\s*(?:\d+\s+)?([a-z_][a-z0-9_]*)\((.*)")
RESUMED = re.compile(r"<\.\.\. ([a-z_][a-z0-9_]*) resumed>")


def traced(files):
    calls, families = {}, {}
    for f in files:
        for line in open(f, encoding="utf-8", errors="replace"):
            m = RESUMED.search(line)
            if m:
                continue
            m = CALL.match(line)
            if not m:
                continue
            name, rest = m.group(1), m.group(2)
            calls.setdefault(name, f)
            if name in ("socket", "socketpair"):
                fam = rest.split(",", 1)[0].strip()
                families.setdefault(fam, f)
    return calls, families


def main(argv):
    if len(argv) == 3 and argv[1] == "allowed":
        print("\n".join(sorted(allowed(argv[2]))))
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        unit, files = argv[2], argv[3:]
        allow = allowed(unit)
        _, fams = unit_settings(unit)
        calls, families = traced(files)
        bad = 0
        for name in sorted(calls):
            if name not in allow and name not in ("execve",):
                print(f"syscall {name} (seen in {calls[name]}) is outside SystemCallFilter=")
                bad = 1
        for fam in sorted(families):
            if fams is not None and fam not in fams:
                print(f"socket family {fam} (seen in {families[fam]}) is outside RestrictAddressFamilies=")
                bad = 1
        print(f"{len(calls)} distinct syscalls, families {sorted(families)}; "
              f"{'all' if not bad else 'NOT all'} inside the filter ({len(allow)} allowed)")
        return bad
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
