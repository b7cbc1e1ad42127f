#!/usr/bin/env python3
"""tcp_proxy.py -- a loopback TCP proxy for the e2e tests, optionally slow.

    tcp_proxy.py --upstream 127.0.0.1:PORT --port-file F [--listen-port P]
                 [--down-rate BYTES_PER_S] [--events F] [--faults F]

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
    <unix time> fault <n> <status> <tag>
    <unix time> gaveup <n>          the client closed a connection held by a hang fault
--faults names a file of lines "STATUS CODE REGEX" (e.g. "403 AccessDenied
e2e-403"), read anew for every connection (absent = none): a request whose
request line (followed by a space and its X-Amz-Target, e.g.
AmazonSQS.SendMessage) matches REGEX is answered by the proxy itself with
STATUS and an S3-style XML <Error><Code>CODE</Code> (no body for HEAD), never
reaching the upstream; STATUS 0 means no answer at all: the connection is held
open, silent, until the client gives up (a hung server). Tests switch faults
on and off by rewriting the file.
Stop it by PID (SIGTERM). Loopback only; test-only.
"""
import argparse
import os
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


def fault_for(path, first):
    """(status, code) of the first --faults line matching the request line, or None."""
    if not path:
        return None
    line = first.split(b"\r\n", 1)[0].decode("latin-1", "replace") + " " + tag_of(first)
    try:
        with open(path) as f:
            rules = [l.split(None, 2) for l in f if l.strip()]
    except OSError:
        return None
    for status, code, rx in rules:
        if re.search(rx.strip(), line):
            return int(status), code
    return None


REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
           503: "Service Unavailable"}


def answer_fault(client, first, status, code):
    body = b"" if first.startswith(b"HEAD ") else (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>injected by '
        'tcp_proxy.py</Message><RequestId>E2EFAULT</RequestId></Error>' % code).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
            "x-amz-request-id: E2EFAULT\r\nConnection: close\r\n\r\n"
            % (status, REASONS.get(status, "Error"), len(body) if body else 0)).encode()
    try:
        client.sendall(head + body)
    except OSError:
        pass


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


def handle(client, upstream, bucket, events, faults):
    cid = events.next_id()
    client.settimeout(10)
    try:
        first = client.recv(65536)
    except OSError:
        first = b""
    f = fault_for(faults, first)
    if f:
        events.log("fault %d %d %s" % (cid, f[0], tag_of(first)))
        if f[0] == 0:  # hang: read and drop whatever comes until the client closes
            client.settimeout(None)
            try:
                while client.recv(65536):
                    pass
            except OSError:
                pass
            events.log("gaveup %d" % cid)
        else:
            answer_fault(client, first, *f)
        client.close()
        return
    try:
        server = socket.create_connection(upstream, timeout=10)
        server.settimeout(None)
    except OSError:
        client.close()
        events.log("refused %d" % cid)
        return
    client.settimeout(None)
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
    ap.add_argument("--faults")
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
    os.replace(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c, upstream, bucket, events, a.faults), daemon=True).start()


if __name__ == "__main__":
    main()
