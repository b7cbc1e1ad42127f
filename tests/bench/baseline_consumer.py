#!/usr/bin/env python3
"""The work-queue consumer written the way the original Python design would
be, as the yardstick for owls-q4d in tests/bench/bench_daemon.sh.

    python3 tests/bench/baseline_consumer.py -c owls-q4.conf [--max-messages N]

One process, one job at a time: boto3 long-polls the work queue
(ReceiveMessage, WaitTimeSeconds and MaxNumberOfMessages from the config),
and for each message: parse the job JSON -> GetObject run=<id>/MANIFEST.json
(the idempotency check; NoSuchKey means "not done yet") -> GetObject the
input -> pandas.read_csv -> scikit-learn StandardScaler + PCA(2, LAPACK
"full") -> SPEC section 3's sign convention, quadrants and energies ->
PutObject Q_keep.csv, Q_discard.csv, Q_study.json, er.json and MANIFEST.json
(last) -> SendMessage the done notification -> DeleteMessage. The same
requests per job as the daemon makes, so the two can be compared on one moto.

It is a yardstick, not a second implementation: it handles job JSON only (no
S3 event records, no Parquet, no visibility heartbeat), its CSVs are pandas'
to_csv (numbers re-printed, not copied), and its error handling is coarse:
a job that raises a botocore error is left on the queue (transient), any
other exception writes run=<id>/ERROR.json (or errors/<message-id>.json),
sends a "failed" notification and deletes the message.

Configuration: the daemon's own INI file (SPEC section 7: [aws] region and
endpoint_url, [s3] buckets and addressing, [sqs] queue URLs, wait, batch size
and visibility); AWS_REGION/AWS_DEFAULT_REGION, AWS_ENDPOINT_URL(_S3/_SQS)
and the credential variables override it, as for the daemon. [worker] is
ignored: run several processes for parallelism.

systemd-style readiness: when NOTIFY_SOCKET is set, "READY=1" is sent there
once the work queue has answered GetQueueAttributes (as the daemon does), so a
benchmark can wait for a real event instead of sleeping. SIGTERM/SIGINT: an
idle consumer exits at once (exit 0), a busy one after its current job.

Interpreter: boto3 lives in the python3 on PATH (pyenv), pandas and
scikit-learn in Debian's /usr/bin/python3 (python3-pandas, python3-sklearn).
Both are CPython 3.11, so this script runs under the python3 on PATH and
APPENDS /usr/lib/python3/dist-packages to sys.path: boto3, botocore and
urllib3 come from pyenv's site-packages, numpy/pandas/scipy/sklearn from
Debian's (appending, not PYTHONPATH, keeps Debian's older urllib3 from
shadowing the one botocore was installed with). OWLS_BASELINE_SYSPATH
replaces that directory ("" = add nothing).
"""

import argparse
import configparser
import datetime
import hashlib
import io
import json
import os
import re
import signal
import socket
import sys
import time

_EXTRA = os.environ.get("OWLS_BASELINE_SYSPATH", "/usr/lib/python3/dist-packages")
if _EXTRA and _EXTRA not in sys.path:
    sys.path.append(_EXTRA)

import boto3  # noqa: E402  (after the sys.path fix above)
import botocore.exceptions  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from botocore.config import Config  # noqa: E402
from q4_sklearn import four_quadrants  # noqa: E402  (next to this script; Debian's sklearn)

PROG = "baseline_consumer"
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

_busy = False
_stop = False


def log(level, msg, **fields):
    extra = "".join(f" {k}={v}" for k, v in fields.items() if v is not None)
    print(f"{PROG}: {level}: {msg}{extra}", file=sys.stderr, flush=True)


def sd_notify(state):
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(state.encode(), path)


def on_signal(signum, _frame):
    global _stop
    _stop = True
    if not _busy:
        raise SystemExit(0)  # interrupts the long poll (PEP 475 runs the handler first)


class PermanentError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def load_config(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=("#",), comment_prefixes=("#", ";"),
                                   interpolation=None)
    with open(path, encoding="utf-8") as f:
        cp.read_file(f)

    def get(sec, key, default=None):
        v = cp.get(sec, key, fallback=default)
        return v.strip() if isinstance(v, str) else v

    env = os.environ
    c = {
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or get("aws", "region", "us-east-1"),
        "endpoint": env.get("AWS_ENDPOINT_URL") or get("aws", "endpoint_url", "") or None,
        "archive": get("s3", "archive_bucket"),
        "artifacts": get("s3", "artifacts_bucket"),
        "addressing": get("s3", "addressing", "auto"),
        "work": get("sqs", "work_queue_url"),
        "done": get("sqs", "done_queue_url"),
        "wait": int(get("sqs", "wait_time_seconds", "20")),
        "max": int(get("sqs", "max_messages", "10")),
        "visibility": int(get("sqs", "visibility_timeout", "300")),
    }
    c["endpoint_s3"] = env.get("AWS_ENDPOINT_URL_S3") or c["endpoint"]
    c["endpoint_sqs"] = env.get("AWS_ENDPOINT_URL_SQS") or c["endpoint"]
    for k in ("archive", "artifacts", "work", "done"):
        if not c[k]:
            raise SystemExit(f"{PROG}: {path}: missing required key for {k}")
    return c


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cut_body(body):
    raw = body.encode("utf-8", "surrogatepass")
    cut = raw[:65536].decode("utf-8", "ignore")
    return cut, len(raw), hashlib.sha256(raw).hexdigest(), len(raw) > 65536


def parse_job(body, message_id, received):
    try:
        job = json.loads(body)
    except ValueError as e:
        raise PermanentError("bad_message", f"not JSON: {e}")
    if not isinstance(job, dict) or not isinstance(job.get("input_key"), str) or not job["input_key"]:
        raise PermanentError("bad_message", "no usable input_key")
    key = job["input_key"]
    run_id = job.get("run_id")
    if run_id is None:
        m = re.match(r"^run=([^/]+)/", key)
        run_id = m.group(1) if m else received.strftime("%Y-%m-%d-%H%M%S-") + \
            message_id.replace("-", "")[:8]
    return key, run_id, job


def split(df):
    """The Q4 split, the way the original notebook/Lambda did it."""
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    if len(numeric) < 2:
        raise PermanentError("not_enough_numeric_columns", f"{len(numeric)} numeric columns")
    if len(df) < 2:
        raise PermanentError("not_enough_rows", f"{len(df)} rows")
    if df[numeric].isna().any().any():
        col = next(c for c in numeric if df[c].isna().any())
        row = int(np.nonzero(df[col].isna().to_numpy())[0][0]) + 1
        raise PermanentError("missing_value", f"row {row}: column \"{col}\": empty value")
    return four_quadrants(df, numeric)


class Consumer:
    def __init__(self, conf, max_messages):
        self.c = conf
        self.max = max_messages or conf["max"]
        addressing = conf["addressing"] if conf["addressing"] in ("path", "virtual") else \
            ("path" if conf["endpoint_s3"] else "auto")
        cfg = Config(region_name=conf["region"], s3={"addressing_style": addressing},
                     retries={"mode": "standard"}, connect_timeout=5,
                     read_timeout=conf["wait"] + 10)
        self.s3 = boto3.client("s3", endpoint_url=conf["endpoint_s3"], config=cfg)
        self.sqs = boto3.client("sqs", endpoint_url=conf["endpoint_sqs"], config=cfg)
        self.host = socket.gethostname()

    def put(self, key, body, ctype):
        self.s3.put_object(Bucket=self.c["artifacts"], Key=key, Body=body, ContentType=ctype)

    def notify(self, doc):
        self.sqs.send_message(QueueUrl=self.c["done"], MessageBody=json.dumps(doc))

    def existing_manifest(self, run_id):
        try:
            obj = self.s3.get_object(Bucket=self.c["artifacts"], Key=f"run={run_id}/MANIFEST.json")
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(obj["Body"].read())

    def handle(self, msg):
        t0 = time.monotonic()
        mid, body = msg["MessageId"], msg["Body"]
        received = datetime.datetime.now(datetime.timezone.utc)
        run_id = key = None
        try:
            key, run_id, job = parse_job(body, mid, received)
            if not RUN_ID_RE.match(run_id):
                raise PermanentError("invalid_run_id", f"run id {run_id!r}")
            if job.get("input_bucket") not in (None, self.c["archive"]):
                raise PermanentError("forbidden_bucket", f"bucket {job['input_bucket']!r}")
            self.run(mid, key, run_id, t0)
        except PermanentError as e:
            self.fail(mid, body, run_id, key, e.code, str(e), t0)
        except botocore.exceptions.BotoCoreError as e:
            log("warning", f"transient: {e}; message left on the queue", run_id=run_id,
                work_message_id=mid)
            return
        except botocore.exceptions.ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("NoSuchKey", "404") and key is not None:
                self.fail(mid, body, run_id, key, "input_not_found", f"s3://{self.c['archive']}/{key}", t0)
            else:
                log("warning", f"transient: {code}; message left on the queue", run_id=run_id,
                    work_message_id=mid)
                return
        self.sqs.delete_message(QueueUrl=self.c["work"], ReceiptHandle=msg["ReceiptHandle"])

    def run(self, mid, key, run_id, t0):
        started = now_rfc3339()
        prefix = f"run={run_id}/"
        old = self.existing_manifest(run_id)
        obj_head = None
        if old is not None:
            obj_head = self.s3.head_object(Bucket=self.c["archive"], Key=key)
            etag = obj_head["ETag"].strip('"')
            if old["input"]["key"] != key or old["input"]["etag"] != etag:
                raise PermanentError("run_conflict", f"run {run_id} exists for another input")
            self.notify_done(mid, run_id, key, None, t0, duplicate=True)
            return
        obj = self.s3.get_object(Bucket=self.c["archive"], Key=key)
        data = obj["Body"].read()
        etag = obj["ETag"].strip('"')
        fmt = "parquet" if key.endswith(".parquet") or data[:4] == b"PAR1" else "csv"
        if fmt != "csv":
            raise PermanentError("unsupported_format", "the baseline reads CSV only")
        try:
            df = pd.read_csv(io.BytesIO(data))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise PermanentError("bad_csv", str(e).strip())
        keep, study, er = split(df)
        in_sha = hashlib.sha256(data).hexdigest()
        study = {"schema": "owls-q4.study/1", "run_id": run_id,
                 "input": {"key": key, "format": fmt, "bytes": len(data), "sha256": in_sha}, **study}
        files = [
            ("Q_keep.csv", df[keep].to_csv(index=False).encode(), "text/csv"),
            ("Q_discard.csv", df[~keep].to_csv(index=False).encode(), "text/csv"),
            ("Q_study.json", json.dumps(study, indent=2).encode(), "application/json"),
            ("er.json", json.dumps(er, indent=2).encode(), "application/json"),
        ]
        arts = []
        for name, body, ctype in files:
            self.put(prefix + name, body, ctype)
            arts.append({"name": name, "key": prefix + name, "bytes": len(body),
                         "sha256": hashlib.sha256(body).hexdigest(), "content_type": ctype})
        manifest = {
            "schema": "owls-q4.manifest/1", "run_id": run_id,
            "input": {"bucket": self.c["archive"], "key": key, "etag": etag, "bytes": len(data),
                      "sha256": in_sha},
            "artifacts": arts,
            "producer": {"name": PROG, "version": f"pandas-{pd.__version__}", "host": self.host},
            "started_at": started, "finished_at": now_rfc3339(),
        }
        self.put(prefix + "MANIFEST.json", json.dumps(manifest, indent=2).encode(), "application/json")
        self.notify_done(mid, run_id, key, er, t0)

    def notify_done(self, mid, run_id, key, er, t0, duplicate=False):
        doc = {
            "schema": "owls-q4.done/1", "status": "succeeded", "run_id": run_id,
            "input": {"bucket": self.c["archive"], "key": key},
            "artifacts": {"bucket": self.c["artifacts"], "prefix": f"run={run_id}/",
                          "manifest": f"run={run_id}/MANIFEST.json"},
        }
        if er is not None:
            doc["rows"] = {"keep": er["keep"]["rows"], "discard": er["discard"]["rows"]}
            doc["keep_energy_fraction"] = er["keep"]["fraction"]
        if duplicate:
            doc["duplicate"] = True
        doc["work_message_id"] = mid
        doc["duration_ms"] = int((time.monotonic() - t0) * 1000)
        self.notify(doc)
        log("info", "job succeeded" + (" (duplicate)" if duplicate else ""), run_id=run_id,
            work_message_id=mid, input_key=key)

    def fail(self, mid, body, run_id, key, code, message, t0):
        cut, nbytes, sha, truncated = cut_body(body)
        valid = run_id is not None and RUN_ID_RE.match(run_id) and code != "run_conflict"
        rec_key = f"run={run_id}/ERROR.json" if valid else f"errors/{mid}.json"
        rec = {"schema": "owls-q4.error/1", "code": code, "message": message,
               "run_id": run_id if valid else None, "work_message_id": mid, "job": cut,
               "failed_at": now_rfc3339()}
        self.put(rec_key, json.dumps(rec, indent=2).encode(), "application/json")
        doc = {"schema": "owls-q4.done/1", "status": "failed", "run_id": run_id if valid else None,
               "input": {"bucket": self.c["archive"], "key": key} if key else None,
               "error": {"code": code, "message": message}, "work_message_id": mid,
               "duration_ms": int((time.monotonic() - t0) * 1000)}
        if code == "bad_message":
            doc["work_message"] = {"body": cut, "bytes": nbytes, "sha256": sha, "truncated": truncated}
        self.notify(doc)
        log("warning", f"job failed: {message}", run_id=run_id, work_message_id=mid,
            input_key=key, error_code=code)

    def loop(self):
        global _busy
        self.sqs.get_queue_attributes(QueueUrl=self.c["work"], AttributeNames=["QueueArn"])
        sd_notify("READY=1")
        log("info", f"ready: polling {self.c['work']} (wait {self.c['wait']} s, up to {self.max})")
        while not _stop:
            try:
                r = self.sqs.receive_message(QueueUrl=self.c["work"], WaitTimeSeconds=self.c["wait"],
                                             MaxNumberOfMessages=self.max,
                                             VisibilityTimeout=self.c["visibility"])
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                log("warning", f"receive failed: {e}")
                time.sleep(1)
                continue
            _busy = True
            for msg in r.get("Messages", []):
                self.handle(msg)
            _busy = False
        sd_notify("STOPPING=1")


def main(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--config", default="/etc/owls-q4.conf")
    ap.add_argument("--max-messages", type=int, default=0, help="override [sqs] max_messages")
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        Consumer(load_config(a.config), a.max_messages).loop()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
    log("info", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
