#!/usr/bin/env python3
"""notify_listener.py SOCKET OUT -- stand in for systemd's NOTIFY_SOCKET.

Binds an AF_UNIX datagram socket at SOCKET (a path), asks for the sender's
credentials (SO_PASSCRED, as systemd does) and writes one JSON line per
datagram to OUT: {"t": monotonic seconds, "pid": sender pid or null,
"msg": "READY=1\\nSTATUS=..."}; each line is flushed at once. The socket
exists only once it is bound, so a test can wait for the file. Stop by PID.
"""
import json
import os
import signal
import socket
import struct
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    s.bind(tmp)
    os.rename(tmp, path)
    ucred = struct.calcsize("3i")
    with open(out, "a", buffering=1) as f:
        while True:
            data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(ucred))
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:ucred])[0]
            f.write(json.dumps({"t": time.monotonic(), "pid": pid,
                                "msg": data.decode("utf-8", "replace")}) + "\n")


if __name__ == "__main__":
    main()
