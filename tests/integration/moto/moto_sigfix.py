#!/usr/bin/env python3
"""moto_server launcher with AWS-conformant SigV4 *verification* (moto 5.2.1).

Why: in IAM-auth mode stock moto re-signs the request from werkzeug's IRI
form of the URL (percent-escapes decoded except space/%/?/#, ';params' cut
off by urlparse), so a correctly signed request whose S3 key or query has
= + [ ] ( ) ! $ & * , ; : @ % or non-ASCII (e.g.
'run=2025-08-25-001/input/my data é.csv', ListObjectsV2 ?prefix=a%2F) gets
SignatureDoesNotMatch.  It also silently drops signed user-agent/expect/
connection/... headers before re-signing.

Patch (verifier only, moto.iam.access_control; S3/SQS behaviour untouched):
  * URI taken from the raw request line (werkzeug environ RAW_URI)
  * S3 canonical URI   = quote(unquote(raw_path), safe='/~')     (AWS rule)
    other services     = botocore default (double-encode raw path)
  * canonical query    = names/values unquote()d, re-quoted safe='-_.~', sorted
  * canonical headers  = exactly the client's SignedHeaders list
  * payload hash of a request without body = sha256('') (moto hashed the
    query dict for GET/DELETE without x-amz-content-sha256)
Usage (same flags as moto_server):  python3 moto_sigfix.py -H 127.0.0.1 -p 4566

Provenance and licence: the project's own copy of the team's reference
launcher (shared/tools/moto_sigfix.py), kept verbatim apart from this note.
It patches moto (https://github.com/getmoto/moto, Apache License 2.0) at run
time and subclasses botocore's signers (https://github.com/boto/botocore,
Apache License 2.0); it contains no code copied from either. Test-only: never
installed, never used against real AWS.
"""
import sys
from urllib.parse import quote, unquote, urlsplit

from botocore.auth import EMPTY_SHA256_HASH, S3SigV4Auth, SigV4Auth
from botocore.compat import HTTPHeaders

import moto.iam.access_control as ac


def _raw_url(fallback):
    try:
        from flask import request as freq

        raw = freq.environ.get("RAW_URI") or freq.environ.get("REQUEST_URI")
    except Exception:  # no request context (in-process use): keep moto's
        raw = None
    if not raw:
        return fallback
    p = urlsplit(raw)
    return p.path + ("?" + p.query if p.query else "")


def _canon_query(parts):
    pairs = []
    for item in (parts.query or "").split("&"):
        if item:
            k, _, v = item.partition("=")
            pairs.append((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


class _Fix:
    def canonical_request(self, request):
        request.url = _raw_url(request.url)
        return super().canonical_request(request)

    def _canonical_query_string_url(self, parts):
        return _canon_query(parts)

    def payload(self, request):
        # moto hands GET/DELETE requests the parsed query dict as "body",
        # so the hash of an empty body came out wrong (non-S3 GET, S3 GET
        # without x-amz-content-sha256).  No Content-Length -> empty hash.
        try:
            from flask import request as freq

            if not freq.content_length and "chunked" not in (
                freq.headers.get("Transfer-Encoding") or ""
            ).lower():
                return EMPTY_SHA256_HASH
        except Exception:
            pass
        return super().payload(request)

    def headers_to_sign(self, request):
        # moto already cut request.headers down to the client's SignedHeaders;
        # keep them all (botocore's signer would drop user-agent, expect, ...)
        hm = HTTPHeaders()
        for name, value in request.headers.items():
            hm[name.lower()] = value
        if "host" not in hm:  # host not signed -> mismatch, as on AWS
            hm["host"] = ""
        return hm


class _V4(_Fix, SigV4Auth):
    pass


class _S3V4(_Fix, S3SigV4Auth):
    def _normalize_url_path(self, path):
        return quote(unquote(path), safe="/~")


ac.IAMRequest._create_auth = lambda self, c: _V4(c, self._service, self._region)
ac.S3IAMRequest._create_auth = lambda self, c: _S3V4(c, self._service, self._region)

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
