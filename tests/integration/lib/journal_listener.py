#!/usr/bin/env python3
"""journal_listener.py SOCKET OUT -- stand in for journald's native socket.

Binds an AF_UNIX datagram socket at SOCKET (journald's is
/run/systemd/journal/socket; see journal_ns.sh) and writes each entry that
sd_journal_send() delivers as one JSON object of its fields to OUT, flushed
at once. The native protocol (systemd's JOURNAL_NATIVE_PROTOCOL): fields are
"NAME=value\\n", or "NAME\\n" + 64-bit little-endian length + bytes + "\\n"
for values holding a newline; an entry too big for a datagram arrives as a
memfd passed with SCM_RIGHTS. A datagram that breaks the protocol is written
as {"_PROTOCOL_ERROR": "..."} so that the test sees it. Stop by PID.
"""
import array
import json
import os
import re
import signal
import socket
import struct
import sys

FIELD_NAME = re.compile(rb"[A-Z0-9_]+")

def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("field without a newline at byte %d" % i)
        eq = data.find(b"=", i, nl)
        if eq >= 0:
            name, value, i = data[i:eq], data[eq + 1:nl], nl + 1
        else:
            name = data[i:nl]
            if nl + 9 > len(data):
                raise ValueError("binary field %r without its length" % name)
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            start = nl + 9
            if start + n + 1 > len(data) or data[start + n:start + n + 1] != b"\n":
                raise ValueError("binary field %r: bad length %d" % (name, n))
            value, i = data[start:start + n], start + n + 1
        if not FIELD_NAME.fullmatch(name):
            raise ValueError("bad field name %r" % name)
        fields[name.decode()] = value.decode("utf-8", "replace")
    return fields


def main():
    path, out = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    s.bind(tmp)
    os.rename(tmp, path)
    fdsize = array.array("i").itemsize
    with open(out, "a", buffering=1) as f:
        while True:
            data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fdsize))
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(cdata[:len(cdata) - len(cdata) % fdsize])
                    for fd in fds:
                        with os.fdopen(fd, "rb") as m:
                            data += m.read()
            try:
                entry = parse(data)
            except ValueError as e:
                entry = {"_PROTOCOL_ERROR": str(e)}
            f.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main()
