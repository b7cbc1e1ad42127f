#!/usr/bin/env python3
"""tcp_proxy.py -- a loopback TCP proxy for the e2e tests, optionally slow.

    tcp_proxy.py --upstream 127.0.0.1:PORT --port-file F [--listen-port P]
                 [--down-rate BYTES_PER_S] [--events F]

Listens on 127.0.0.1 (a free port unless --listen-port; the port is written
to --port-file once listening), relays every connection to the upstream and
back. --down-rate caps the upstream->client bytes per second, summed over all
connections (a token bucket refilled every 10 ms, so the stream never stalls:
the daemon's stalled-transfer timeouts must not fire, it is merely slow).
--events gets one line per connection event, for tests that synchronise on
"a request is in flight":
    <unix time> open <n> <tag>      tag = X-Amz-Target or Action= of the request,
                                    else its request line, spaces as '_'
    <unix time> close <n>
Stop it by PID (SIGTERM). Loopback only; test-only.
"""
import argparse
import re
import signal
import socket
import sys
import threading
import time


class Bucket:
    def __init__(self, rate):
        self.rate = rate
        self.tokens = 0.0
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self, want):
        """Block until some tokens are available; return how many (<= want)."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.rate * 0.05, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= 1:
                    n = int(min(want, self.tokens))
                    self.tokens -= n
                    return n
            time.sleep(0.01)


class Events:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.lock = threading.Lock()
        self.n = 0

    def next_id(self):
        with self.lock:
            self.n += 1
            return self.n

    def log(self, line):
        if self.f:
            with self.lock:
                self.f.write("%.3f %s\n" % (time.time(), line))


def tag_of(first):
    head = first[:4096].decode("latin-1", "replace")
    m = re.search(r"(?im)^x-amz-target:\s*(\S+)", head)
    if m:
        return m.group(1)
    m = re.search(r"Action=([A-Za-z]+)", head)
    if m:
        return "Action=" + m.group(1)
    return head.split("\r\n", 1)[0].replace(" ", "_")[:120] or "-"


def pump(src, dst, bucket):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            view = memoryview(data)
            while view:
                n = bucket.take(len(view)) if bucket else len(view)
                dst.sendall(view[:n])
                view = view[n:]
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client, upstream, bucket, events):
    cid = events.next_id()
    try:
        server = socket.create_connection(upstream, timeout=10)
        server.settimeout(None)
    except OSError:
        client.close()
        events.log("refused %d" % cid)
        return
    client.settimeout(None)
    try:
        first = client.recv(65536)
    except OSError:
        first = b""
    events.log("open %d %s" % (cid, tag_of(first)))
    if first:
        try:
            server.sendall(first)
        except OSError:
            pass
    t = threading.Thread(target=pump, args=(client, server, None), daemon=True)
    t.start()
    pump(server, client, bucket)
    t.join(timeout=60)
    events.log("close %d" % cid)
    client.close()
    server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--listen-port", type=int, default=0)
    ap.add_argument("--down-rate", type=float, default=0)
    ap.add_argument("--events")
    a = ap.parse_args()
    host, port = a.upstream.rsplit(":", 1)
    upstream = (host, int(port))
    bucket = Bucket(a.down_rate) if a.down_rate > 0 else None
    events = Events(a.events)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen_port))
    ls.listen(128)
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    import os
    os.replace(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c, upstream, bucket, events), daemon=True).start()


if __name__ == "__main__":
    main()
