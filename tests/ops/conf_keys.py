#!/usr/bin/env python3
"""conf_keys.py -- read owls-q4.conf files as SPEC §7 defines them.

  conf_keys.py --check FILE...     exit 1 unless each FILE has exactly SPEC §7's
                                   sections and keys (names a missing/extra one)
  conf_keys.py --get FILE SEC.KEY  print one value ('' if empty)
  conf_keys.py --json FILE         print {section: {key: value}}

'#' starts a comment at the start of a line or after whitespace.
"""
import json
import re
import sys

SPEC_KEYS = {
    "aws": ["region", "endpoint_url"],
    "s3": ["archive_bucket", "artifacts_bucket", "addressing"],
    "sqs": ["work_queue_url", "done_queue_url", "wait_time_seconds", "max_messages",
            "visibility_timeout"],
    "worker": ["threads", "max_input_bytes", "shutdown_grace_seconds"],
    "log": ["level"],
}


def parse(text, name="<conf>"):
    conf, section = {}, None
    for no, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        m = re.fullmatch(r"\[([A-Za-z0-9_]+)\]", line)
        if m:
            section = m.group(1)
            if section in conf:
                raise ValueError(f"{name}:{no}: section [{section}] repeated")
            conf[section] = {}
            continue
        m = re.fullmatch(r"([A-Za-z0-9_]+)\s*=\s*(.*)", line)
        if not m or section is None:
            raise ValueError(f"{name}:{no}: not 'key = value' inside a section: {raw!r}")
        if m.group(1) in conf[section]:
            raise ValueError(f"{name}:{no}: key {m.group(1)} repeated")
        conf[section][m.group(1)] = m.group(2).strip()
    return conf


def check(conf, name):
    errs = []
    for sec in sorted(set(conf) | set(SPEC_KEYS)):
        have, want = set(conf.get(sec, {})), set(SPEC_KEYS.get(sec, []))
        if sec not in conf:
            errs.append(f"{name}: missing section [{sec}]")
        elif sec not in SPEC_KEYS:
            errs.append(f"{name}: section [{sec}] is not in SPEC §7")
        for k in sorted(want - have):
            if sec in conf:
                errs.append(f"{name}: [{sec}] lacks {k}")
        for k in sorted(have - want):
            if sec in SPEC_KEYS:
                errs.append(f"{name}: [{sec}] {k} is not in SPEC §7")
    return errs


def main(argv):
    if len(argv) >= 3 and argv[1] == "--check":
        errs = []
        for f in argv[2:]:
            try:
                errs += check(parse(open(f, encoding="utf-8").read(), f), f)
            except (OSError, ValueError) as e:
                errs.append(str(e))
        for e in errs:
            print(e, file=sys.stderr)
        return 1 if errs else 0
    if len(argv) == 4 and argv[1] == "--get":
        sec, key = argv[3].split(".", 1)
        print(parse(open(argv[2], encoding="utf-8").read(), argv[2])[sec][key])
        return 0
    if len(argv) == 3 and argv[1] == "--json":
        print(json.dumps(parse(open(argv[2], encoding="utf-8").read(), argv[2]), indent=1))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
