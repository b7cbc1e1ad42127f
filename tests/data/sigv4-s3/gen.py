#!/usr/bin/env python3
"""Expected S3 SigV4 signatures, computed by botocore (an independent
implementation), for tests/unit/test_sigv4.c.

Run once, by hand, when adding cases:  python3 tests/data/sigv4-s3/gen.py
It writes cases.json next to itself; the C test only reads that file (the
build never runs botocore). Signing time, credentials and keys are fixed, so
the output is deterministic.

Each case gives the S3 object key, how botocore encodes it into the path
(botocore.utils.percent_encode(key, safe='/~'), as its S3 serializer does),
the headers to sign, the payload hash, and botocore's canonical request,
string to sign, signature and Authorization header (or presigned query).
"""
import datetime
import json
import os
import types
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

NOW = datetime.datetime(2025, 8, 25, 12, 34, 56)
botocore.auth.get_current_datetime = lambda: NOW  # a fixed signing time

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with+plus=="

# name, method, endpoint (scheme://host[:port]), bucket in path (or None for
# virtual-hosted), key, query, extra headers, body, unsigned, token, presign
CASES = [
    ("get-space-equals", "GET", "https://owls-q4-archive.s3.us-east-1.amazonaws.com", None,
     "run=2025-08-25-001/input/my data.csv", "", [], b"", False, False, 0),
    ("put-unicode", "PUT", "https://owls-q4-artifacts.s3.eu-west-1.amazonaws.com", None,
     "run=2025-08-25-001/na\u00efve r\u00e9sum\u00e9 \u65e5\u672c.csv", "",
     [("Content-Type", "text/csv")], b"a,b\n1,2\n", False, False, 0),
    ("put-plus-percent-unsigned", "PUT", "http://127.0.0.1:4566", "owls-q4-artifacts",
     "run=a+b/input/100%real 50%25.csv", "", [("Content-Type", "application/json")],
     b'{"x": 1}', True, False, 0),
    ("get-specials-token", "GET", "http://127.0.0.1:4566", "owls-q4-archive",
     "run=x/(a):b@c!d*e'f,g;h$i&j[k]l.csv", "", [("Range", "bytes=0-1023")], b"", False, True,
     0),
    ("get-dots-not-normalized", "GET", "https://owls-q4-archive.s3.us-east-1.amazonaws.com",
     None, "run=x/./a/../b//c.csv", "", [], b"", True, False, 0),
    ("head-meta-spaces", "HEAD", "https://owls-q4-archive.s3.us-east-1.amazonaws.com", None,
     "run=2025-08-25-001/MANIFEST.json", "",
     [("X-Amz-Meta-Note", "  two   spaces  here "), ("x-amz-meta-note", "second")], b"",
     True, False, 0),
    ("post-uploads-empty-value", "POST", "http://127.0.0.1:4566", "owls-q4-artifacts",
     "run=r1/Q_keep.csv", "uploads", [("Content-Type", "text/csv")], b"", False, False, 0),
    ("put-part-query", "PUT", "http://127.0.0.1:4566", "owls-q4-artifacts", "run=r1/Q_keep.csv",
     "partNumber=2&uploadId=Zm9v%2Bbar%2Fbaz%3D%3D", [], b"x" * 100, True, True, 0),
    ("presign-get-token", "GET", "https://owls-q4-archive.s3.us-east-1.amazonaws.com", None,
     "run=2025-08-25-001/input/my data.csv", "", [], b"", True, True, 900),
    ("presign-get-query", "GET", "http://127.0.0.1:4566", "owls-q4-archive",
     "run=x/\u00e9t\u00e9.csv", "response-content-type=text%2Fcsv", [], b"", True, False, 3600),
]


def region_of(endpoint):
    host = urlsplit(endpoint).hostname
    parts = host.split(".")
    if len(parts) >= 4 and parts[1] == "s3" and parts[-2] == "amazonaws":
        return parts[2]
    return "us-east-1"


def main():
    out = []
    for (name, method, endpoint, bucket, key, query, headers, body, unsigned, token,
         presign) in CASES:
        path = "/" + percent_encode(key, safe="/~")
        if bucket is not None:
            path = "/" + bucket + path
        url = endpoint + path + ("?" + query if query else "")
        region = region_of(endpoint)
        creds = Credentials(AKID, SECRET, TOKEN if token else None)
        req = AWSRequest(method=method, url=url, headers=dict(), data=body)
        for k, v in headers:
            req.headers[k] = v  # an email.message-style map: repeats append
        cfg = types.SimpleNamespace(s3={"payload_signing_enabled": not unsigned})
        req.context["client_config"] = cfg
        if presign:
            auth = botocore.auth.S3SigV4QueryAuth(creds, "s3", region, expires=presign)
        else:
            auth = botocore.auth.S3SigV4Auth(creds, "s3", region)
        # Record the stages as add_auth computes them.
        seen = {}
        for stage in ("canonical_request", "string_to_sign", "signature"):
            def spy(*a, _f=getattr(auth, stage), _s=stage):
                seen[_s] = _f(*a)
                return seen[_s]
            setattr(auth, stage, spy)
        auth.add_auth(req)
        cr, sts, sig = seen["canonical_request"], seen["string_to_sign"], seen["signature"]
        payload = cr.rsplit("\n", 1)[1]
        sign_headers = [[k, v] for k, v in headers]
        sign_headers.append(["Host", botocore.auth._host_from_url(url)])
        if not presign:
            sign_headers.append(["X-Amz-Content-SHA256", req.headers["X-Amz-Content-SHA256"]])
        case = {
            "name": name,
            "method": method,
            "key": key,
            "path": urlsplit(req.url).path,
            "query": query,
            "headers": sign_headers,
            "payload_hash": payload,
            "region": region,
            "service": "s3",
            "timestamp": int((NOW - datetime.datetime(1970, 1, 1)).total_seconds()),
            "access_key_id": AKID,
            "secret_access_key": SECRET,
            "session_token": TOKEN if token else None,
            "presign_expires": presign,
            "canonical_request": cr,
            "string_to_sign": sts,
            "signature": sig,
        }
        if presign:
            case["signed_query"] = urlsplit(req.url).query
        else:
            case["authorization"] = req.headers["Authorization"]
        assert sig in (case.get("authorization") or case["signed_query"])
        out.append(case)
    dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
    with open(dst, "w", encoding="utf-8") as f:
        json.dump({"generator": "botocore " + botocore.__version__, "cases": out}, f,
                  indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(out)} cases to {dst}")


if __name__ == "__main__":
    main()
