#!/usr/bin/env python3
"""mutate.py FILE OLD NEW -- replace the first OLD in FILE by NEW (both with
backslash escapes such as \\n), for the tests' tables of deliberate
breakages. Exits 1 if OLD is not there, so a stale table row cannot pass
silently."""
import sys

path = sys.argv[1]
old, new = (a.encode().decode("unicode_escape") for a in sys.argv[2:4])
with open(path, encoding="utf-8") as f:
    text = f.read()
if old not in text:
    sys.exit(f"mutate: text not found in {path}: {old!r}")
with open(path, "w", encoding="utf-8") as f:
    f.write(text.replace(old, new, 1))
