#!/usr/bin/env python3
"""owlsq.py -- the e2e tests' AWS side (boto3 on the PATH python3), as the
operator/admin, never as the daemon.

Environment: the `export` lines of tests/integration/moto/moto-up.sh
(MOTO_ENDPOINT, MOTO_ADMIN_*, OWLS_*_QUEUE_URL, OWLS_DLQ_URL, bucket names)
and E2E_DONE_LOG, the JSON-lines file where every done notification this
test script has received is kept (receiving deletes them from the done
queue, so later checks read this file).

    put FILE KEY                        upload to the archive bucket; prints the ETag (no quotes)
    put-many TABLE                      upload each line RUN<TAB>FILE<TAB>KEY; prints it + <TAB>ETAG
    send (--body S | --body-file F)     send to the work queue; prints the MessageId
    send-jobs FILE                      lines "TAG<TAB>BODY"; prints "TAG<TAB>MessageId"
    s3-event --rec EVENT KEY [--rec ...] [--bucket B]
                                        an S3 event notification body, one record per --rec
                                        (e.g. ObjectCreated:Put; keys URL-encoded like S3 does)
    test-event                          the s3:TestEvent body S3 sends when notifications are set up
    wait-done --timeout T [--run R]... [--msg M]... [--min N]
                                        receive until each selector has >= N notifications;
                                        prints them (JSON list); exit 1 on timeout
    notes [--run R] [--msg M]           notifications seen so far (JSON list)
    drain SECONDS                       keep receiving for SECONDS (late duplicates)
    counts QUEUE                        "visible inflight" of work|done|dlq
    wait-counts QUEUE VISIBLE INFLIGHT --timeout T   exit 1 (printing the counts) on timeout
    purge QUEUE
    create-work-queue NAME [--visibility S]   a fresh work queue (redrive to the DLQ); prints its URL
    set-visibility SECONDS              the work queue's VisibilityTimeout
    fetch-run RUN DIR                   download run=RUN/* to DIR, listing in DIR/_listing.json
    fetch-runs TABLE DIR                the same for every run of TABLE (RUN<TAB>FILE<TAB>KEY<TAB>ETAG
                                        lines) into DIR/RUN/, with DIR/RUN/_notes.json
    get KEY [--bucket B]                an object's bytes to stdout (default: artifacts bucket)
    exists KEY                          exit 0 when the artifacts bucket has KEY
    snapshot PREFIX                     {key: {etag, size, sha256}} of the artifacts bucket
    list PREFIX                         keys, one a line
    check-failure --msg M --code C --body-file F --where run|errors|derived [--run R]
                                        the failed notification and the error record (SPEC 5, 6)
    consumer --out F --stop-file S      a second consumer of the work queue: records every
                                        message it receives (and gives it back at once)
    kill-when --mode inflight|artifact --run R --pid P   SIGKILL P at that point of the job
    create-user NAME [--drop ACTION]... a user with owls-daemon's policy minus ACTIONs; prints keys
    can-get-attributes                  exit 0 if the CURRENT keys may GetQueueAttributes (work queue)
    can-admin                           exit 0 if the CURRENT AWS_ACCESS_KEY_ID may create a queue
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
import urllib.parse
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENV = os.environ
CFG = Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"},
             connect_timeout=5, read_timeout=40)


def client(svc, admin=True):
    if admin:
        ak, sk = ENV["MOTO_ADMIN_ACCESS_KEY_ID"], ENV["MOTO_ADMIN_SECRET_ACCESS_KEY"]
    else:
        ak, sk = ENV["AWS_ACCESS_KEY_ID"], ENV["AWS_SECRET_ACCESS_KEY"]
    return boto3.client(svc, endpoint_url=ENV["MOTO_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=ak, aws_secret_access_key=sk, config=CFG)


def queue_url(name):
    return {"work": ENV["OWLS_WORK_QUEUE_URL"], "done": ENV["OWLS_DONE_QUEUE_URL"],
            "dlq": ENV["OWLS_DLQ_URL"]}.get(name, name)


RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ARCHIVE = ENV.get("OWLS_ARCHIVE_BUCKET", "owls-q4-archive")
ARTIFACTS = ENV.get("OWLS_ARTIFACTS_BUCKET", "owls-q4-artifacts")


def sha256(b):
    return hashlib.sha256(b).hexdigest()


# --- done notifications -----------------------------------------------------------

def load_notes():
    out = []
    try:
        with open(ENV["E2E_DONE_LOG"]) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def receive_done(sqs, wait):
    """One ReceiveMessage on the done queue; each message is appended to the
    log (body parsed if JSON, else kept raw) and deleted."""
    r = sqs.receive_message(QueueUrl=queue_url("done"), MaxNumberOfMessages=10,
                            WaitTimeSeconds=wait, AttributeNames=["All"])
    got = []
    with open(ENV["E2E_DONE_LOG"], "a") as f:
        for m in r.get("Messages", []):
            try:
                body = json.loads(m["Body"])
            except ValueError:
                body = {"_unparsable": m["Body"]}
            rec = {"sqs_message_id": m["MessageId"], "received_at": time.time(), "body": body}
            f.write(json.dumps(rec) + "\n")
            got.append(rec)
    for m in r.get("Messages", []):
        sqs.delete_message(QueueUrl=queue_url("done"), ReceiptHandle=m["ReceiptHandle"])
    return got


def matching(notes, run=None, msg=None):
    out = []
    for n in notes:
        b = n["body"]
        if run is not None and b.get("run_id") != run:
            continue
        if msg is not None and b.get("work_message_id") != msg:
            continue
        out.append(b)
    return out


def cmd_wait_done(a):
    sqs = client("sqs")
    sel = [("run", r) for r in a.run or []] + [("msg", m) for m in a.msg or []]
    deadline = time.time() + a.timeout
    while True:
        notes = load_notes()
        missing = [s for s in sel
                   if len(matching(notes, **{s[0]: s[1]})) < a.min]
        if not missing:
            res = []
            for kind, v in sel:
                res.extend(x for x in matching(notes, **{kind: v}) if x not in res)
            print(json.dumps(res))
            return 0
        left = deadline - time.time()
        if left <= 0:
            print(json.dumps(sorted(set(v for _, v in missing))))
            sys.stderr.write("wait-done: timed out after %gs; no (or too few) notifications for: %s\n"
                             % (a.timeout, ", ".join("%s=%s" % s for s in missing[:10])))
            return 1
        receive_done(sqs, max(1, min(5, int(left))))


def cmd_notes(a):
    print(json.dumps(matching(load_notes(), run=a.run, msg=a.msg)))
    return 0


def cmd_drain(a):
    sqs = client("sqs")
    end = time.time() + a.seconds
    while time.time() < end:
        receive_done(sqs, max(1, min(5, int(end - time.time()))))
    return 0


# --- queues ---------------------------------------------------------------------------

def counts(sqs, name):
    at = sqs.get_queue_attributes(QueueUrl=queue_url(name), AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(at["ApproximateNumberOfMessages"]), int(at["ApproximateNumberOfMessagesNotVisible"])


def cmd_counts(a):
    print("%d %d" % counts(client("sqs"), a.queue))
    return 0


def cmd_wait_counts(a):
    sqs = client("sqs")
    deadline = time.time() + a.timeout
    while True:
        c = counts(sqs, a.queue)
        if c == (a.visible, a.inflight):
            print("%d %d" % c)
            return 0
        if time.time() > deadline:
            print("%d %d" % c)
            return 1
        time.sleep(0.1)


def cmd_purge(a):
    client("sqs").purge_queue(QueueUrl=queue_url(a.queue))
    return 0


def cmd_set_visibility(a):
    client("sqs").set_queue_attributes(QueueUrl=queue_url("work"),
                                       Attributes={"VisibilityTimeout": str(a.seconds)})
    return 0


def cmd_create_work_queue(a):
    """Another work queue like moto-up.sh's (redrive to the same DLQ, maxReceiveCount 3),
    covered by the daemon's policy (owls-q4-*). Why: a stopped daemon's abandoned long
    poll stays open on the server for up to 20 s and can swallow a message (it then
    reappears only after the visibility timeout), so a scenario that follows another
    daemon's exit gets a queue of its own."""
    sqs = client("sqs")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=queue_url("dlq"),
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=a.name, Attributes={
        "VisibilityTimeout": str(a.visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": str(a.max_receives)})})["QueueUrl"]
    print(url)
    return 0


def cmd_send(a):
    body = a.body if a.body is not None else open(a.body_file, "rb").read().decode("utf-8")
    r = client("sqs").send_message(QueueUrl=queue_url(a.queue), MessageBody=body)
    print(r["MessageId"])
    return 0


def cmd_send_jobs(a):
    sqs = client("sqs")
    with open(a.file) as f:
        items = [l.rstrip("\n").split("\t", 1) for l in f if l.strip()]
    for i in range(0, len(items), 10):
        chunk = items[i:i + 10]
        r = sqs.send_message_batch(QueueUrl=queue_url("work"), Entries=[
            {"Id": str(j), "MessageBody": body} for j, (_, body) in enumerate(chunk)])
        if r.get("Failed"):
            sys.exit("send-jobs: %s" % r["Failed"])
        ids = {int(s["Id"]): s["MessageId"] for s in r["Successful"]}
        for j, (tag, _) in enumerate(chunk):
            print("%s\t%s" % (tag, ids[j]))
    return 0


def cmd_s3_event(a):
    s3 = client("s3")
    recs = []
    for i, (event, key) in enumerate(a.rec):
        try:
            h = s3.head_object(Bucket=a.bucket, Key=key)
            size, etag = h["ContentLength"], h["ETag"].strip('"')
        except ClientError:
            size, etag = 0, "d41d8cd98f00b204e9800998ecf8427e"
        recs.append({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "eventName": event,
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                                 "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "owls-q4-work",
                   "bucket": {"name": a.bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                              "arn": "arn:aws:s3:::" + a.bucket},
                   # S3 URL-encodes keys in events like an HTML form: space -> '+'
                   "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size,
                              "eTag": etag, "sequencer": "0055AED6DCD9028%03d" % i}}})
    print(json.dumps({"Records": recs}))
    return 0


def cmd_test_event(a):
    print(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent",
                      "Time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                      "Bucket": ARCHIVE, "RequestId": "5582815E1AEA5ADF",
                      "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}))
    return 0


# --- objects ----------------------------------------------------------------------------

def cmd_put(a):
    with open(a.file, "rb") as f:
        r = client("s3").put_object(Bucket=a.bucket, Key=a.key, Body=f.read())
    print(r["ETag"].strip('"'))
    return 0


def cmd_put_many(a):
    """Upload each line's FILE to KEY (lines RUN<TAB>FILE<TAB>KEY); print the lines with the ETag."""
    s3 = client("s3")
    with open(a.table) as f:
        for line in f:
            run, path, key = line.rstrip("\n").split("\t")
            with open(path, "rb") as body:
                etag = s3.put_object(Bucket=ARCHIVE, Key=key, Body=body.read())["ETag"].strip('"')
            print("\t".join([run, path, key, etag]))
    return 0


def list_keys(s3, bucket, prefix):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def cmd_list(a):
    for k in list_keys(client("s3"), a.bucket, a.prefix):
        print(k)
    return 0


def cmd_fetch_run(a):
    s3 = client("s3")
    os.makedirs(a.dir, exist_ok=True)
    listing = []
    prefix = "run=%s/" % a.run
    for k in list_keys(s3, ARTIFACTS, prefix):
        o = s3.get_object(Bucket=ARTIFACTS, Key=k)
        data = o["Body"].read()
        listing.append({"key": k, "size": len(data), "etag": o["ETag"].strip('"'),
                        "content_type": o.get("ContentType")})
        name = k[len(prefix):]
        if "/" not in name:
            with open(os.path.join(a.dir, name), "wb") as f:
                f.write(data)
    with open(os.path.join(a.dir, "_listing.json"), "w") as f:
        json.dump(listing, f)
    return 0


def cmd_fetch_runs(a):
    """fetch-run for every run of TABLE (lines "RUN<TAB>FILE<TAB>KEY<TAB>ETAG"), plus each
    run's notifications from the log as DIR/RUN/_notes.json."""
    notes = load_notes()
    with open(a.table) as f:
        runs = [l.split("\t")[0] for l in f if l.strip()]
    for run in runs:
        d = os.path.join(a.dir, run)
        cmd_fetch_run(argparse.Namespace(run=run, dir=d))
        with open(os.path.join(d, "_notes.json"), "w") as f:
            json.dump(matching(notes, run=run), f)
    return 0


def cmd_get(a):
    try:
        o = client("s3").get_object(Bucket=a.bucket, Key=a.key)
    except ClientError as e:
        sys.stderr.write("get %s: %s\n" % (a.key, e))
        return 1
    sys.stdout.buffer.write(o["Body"].read())
    return 0


def cmd_exists(a):
    try:
        client("s3").head_object(Bucket=a.bucket, Key=a.key)
        return 0
    except ClientError:
        return 1


def cmd_snapshot(a):
    s3 = client("s3")
    snap = {}
    for k in list_keys(s3, ARTIFACTS, a.prefix):
        o = s3.get_object(Bucket=ARTIFACTS, Key=k)
        data = o["Body"].read()
        snap[k] = {"etag": o["ETag"].strip('"'), "size": len(data), "sha256": sha256(data)}
    print(json.dumps(snap, sort_keys=True))
    return 0


# --- failures (SPEC 5 and 6) ---------------------------------------------------------------

def cut_utf8(b, limit=65536):
    """The first `limit` bytes of b cut back to a UTF-8 character boundary."""
    if len(b) <= limit:
        return b
    cut = limit
    while cut > 0 and (b[cut] & 0xC0) == 0x80:
        cut -= 1
    return b[:cut]


def is_utc(s):
    return isinstance(s, str) and RFC3339_UTC.match(s) is not None


def generated_suffix(msg_id):
    """SPEC 2: the first 8 hex digits of the work message id."""
    return "".join(c for c in msg_id.lower() if c in "0123456789abcdef")[:8]


def cmd_check_failure(a):
    """Wait for the failed notification of work message a.msg and check it and
    its error record. --where: run (run=R/ERROR.json), errors
    (errors/<msg>.json), derived (the record's place follows the
    notification's run_id: null -> errors/, an id -> run=<id>/ERROR.json; for
    bad_message bodies whose run id the SPEC leaves open)."""
    problems = []
    sqs, s3 = client("sqs"), client("s3")
    body = open(a.body_file, "rb").read()
    deadline = time.time() + a.timeout
    notes = matching(load_notes(), msg=a.msg)
    while not notes and time.time() < deadline:
        receive_done(sqs, 2)
        notes = matching(load_notes(), msg=a.msg)
    if not notes:
        print("no done notification with work_message_id=%s within %gs" % (a.msg, a.timeout))
        return 1
    failed = [n for n in notes if n.get("status") == "failed"]
    if not failed:
        print("notification is not 'failed': %s" % json.dumps(notes[0])[:400])
        return 1
    n = failed[0]

    def short(v):
        r = repr(v)
        return r if len(r) <= 200 else "%s ... %s (%d bytes)" % (r[:90], r[-90:], len(v))

    def expect(what, got, want):
        if got != want:
            problems.append("%s: got %s, want %s" % (what, short(got), short(want)))

    expect("notification schema", n.get("schema"), "owls-q4.done/1")
    err = n.get("error") or {}
    expect("notification error.code", err.get("code"), a.code)
    if not isinstance(err.get("message"), str) or not err.get("message"):
        problems.append("notification error.message empty")
    for k in ("run_id", "input"):
        if k not in n:
            problems.append("notification has no %r field (SPEC 5: the value or null)" % k)
    if a.run is not None and a.where == "run":
        expect("notification run_id", n.get("run_id"), a.run)
    if a.input_key is not None:
        inp = n.get("input")
        want = {"bucket": a.input_bucket or ARCHIVE, "key": a.input_key}
        if not isinstance(inp, dict) or {k: inp.get(k) for k in want} != want:
            problems.append("notification input: got %r, want %r" % (inp, want))
    if a.code == "bad_message":
        wm = n.get("work_message")
        if not isinstance(wm, dict):
            problems.append("bad_message notification without work_message: %s" % json.dumps(n)[:300])
        else:
            cut = cut_utf8(body)
            expect("work_message.body", (wm.get("body") or "").encode("utf-8", "surrogatepass"), cut)
            expect("work_message.bytes", wm.get("bytes"), len(body))
            expect("work_message.sha256", wm.get("sha256"), sha256(body))
            expect("work_message.truncated", wm.get("truncated"), len(cut) < len(body))
    for dup in notes[1:]:
        if dup != n and dup.get("error", {}).get("code") != a.code:
            problems.append("a second notification disagrees: %s" % json.dumps(dup)[:300])

    # where the record must be
    if a.where == "run":
        key = "run=%s/ERROR.json" % a.run
    elif a.where == "errors":
        key = "errors/%s.json" % a.msg
    else:
        rid = n.get("run_id")
        key = "errors/%s.json" % a.msg if rid is None else "run=%s/ERROR.json" % rid
        if rid is not None and rid != a.run and not re.match(
                r"^\d{4}-\d\d-\d\d-\d{6}-%s$" % generated_suffix(a.msg), rid):
            problems.append("notification run_id %r is neither null, nor the job's %r, nor a "
                            "generated YYYY-MM-DD-HHMMSS-<msgid[:8]> id" % (rid, a.run))
    try:
        rec = json.loads(s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())
    except ClientError as e:
        others = [k for k in list_keys(s3, ARTIFACTS, "errors/") if a.msg in k]
        if a.run:
            others += [k for k in list_keys(s3, ARTIFACTS, "run=%s/" % a.run) if "ERROR" in k]
        problems.append("no error record at %s (%s); records found elsewhere: %s"
                        % (key, e.response["Error"]["Code"], others or "none"))
        rec = None
    except ValueError as e:
        problems.append("error record %s is not JSON: %s" % (key, e))
        rec = None
    if a.where == "errors" and a.run:
        stray = [k for k in list_keys(s3, ARTIFACTS, "run=%s/" % a.run) if k.endswith("ERROR.json")]
        if stray:
            problems.append("an ERROR.json was written under the run too: %s" % stray)
    if rec is not None:
        expect("record schema", rec.get("schema"), "owls-q4.error/1")
        expect("record code", rec.get("code"), a.code)
        if not isinstance(rec.get("message"), str) or not rec.get("message"):
            problems.append("record message empty")
        if "run_id" not in rec:
            problems.append("record has no run_id field (SPEC 6: the id or null)")
        elif a.where == "run":
            expect("record run_id", rec.get("run_id"), a.run)
        else:
            expect("record run_id (same as the notification's)", rec.get("run_id"), n.get("run_id"))
        expect("record work_message_id", rec.get("work_message_id"), a.msg)
        job = rec.get("job")
        expect("record job (the body, cut like work_message.body)",
               job.encode("utf-8", "surrogatepass") if isinstance(job, str) else job,
               cut_utf8(body))
        if not is_utc(rec.get("failed_at")):
            problems.append("record failed_at not RFC 3339 UTC: %r" % rec.get("failed_at"))
    for p in problems:
        print(p)
    return 1 if problems else 0


# --- a competing consumer -------------------------------------------------------------------

def cmd_consumer(a):
    """Receive from the work queue until the stop file appears; every message
    received is recorded (one JSON line) and made visible again at once, so
    the daemon under test loses nothing but the test sees the redelivery."""
    sqs = client("sqs")
    with open(a.out, "a") as f:
        f.write(json.dumps({"started": time.time()}) + "\n")
        f.flush()
        while not os.path.exists(a.stop_file):
            r = sqs.receive_message(QueueUrl=queue_url("work"), MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1, AttributeNames=["All"])
            for m in r.get("Messages", []):
                f.write(json.dumps({"t": time.time(), "message_id": m["MessageId"],
                                    "receive_count": m["Attributes"].get("ApproximateReceiveCount"),
                                    "body": m["Body"][:200]}) + "\n")
                f.flush()
                sqs.change_message_visibility(QueueUrl=queue_url("work"),
                                              ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return 0


def cmd_kill_when(a):
    """SIGKILL pid a.pid the moment the job of run a.run reaches a point:
    inflight -- the work queue holds exactly one message in flight and none visible;
    artifact -- an artifact of the run is stored but MANIFEST.json is not.
    Polls every 20 ms with one client (a shell loop would be too slow: a 2M-row job
    takes about two seconds). Prints the run's keys at the kill; exit 1 on timeout."""
    import signal
    sqs, s3 = client("sqs"), client("s3")
    deadline = time.time() + a.timeout
    prefix = "run=%s/" % a.run
    while time.time() < deadline:
        if a.mode == "inflight":
            hit = counts(sqs, a.queue) == (0, 1)
        else:
            keys = list_keys(s3, ARTIFACTS, prefix)
            hit = bool(keys) and prefix + "MANIFEST.json" not in keys
        if hit:
            os.kill(a.pid, signal.SIGKILL)
            for k in list_keys(s3, ARTIFACTS, prefix):
                print(k[len(prefix):])
            return 0
        time.sleep(0.02)
    return 1


def cmd_create_user(a):
    """A user with the owls-daemon user's inline policy minus the --drop actions and an
    access key; prints "ACCESS_KEY_ID SECRET". For SPEC 1's optional permissions."""
    iam = client("iam")
    doc = iam.get_user_policy(UserName="owls-daemon", PolicyName="owls-daemon-inline")["PolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(urllib.parse.unquote(doc))
    for st in doc["Statement"]:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        st["Action"] = [x for x in acts if x not in (a.drop or [])]
    iam.create_user(UserName=a.name)
    iam.put_user_policy(UserName=a.name, PolicyName=a.name + "-inline", PolicyDocument=json.dumps(doc))
    k = iam.create_access_key(UserName=a.name)["AccessKey"]
    print(k["AccessKeyId"], k["SecretAccessKey"])
    return 0


def cmd_can_get_attributes(a):
    """exit 0 if the CURRENT AWS_ACCESS_KEY_ID may call GetQueueAttributes on the work queue."""
    try:
        client("sqs", admin=False).get_queue_attributes(QueueUrl=queue_url("work"),
                                                        AttributeNames=["QueueArn"])
        return 0
    except ClientError:
        return 1


def cmd_can_admin(a):
    try:
        client("sqs", admin=False).create_queue(QueueName="owls-q4-e2e-denied-probe")
        return 0
    except ClientError:
        return 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("put")
    p.add_argument("file")
    p.add_argument("key")
    p.add_argument("--bucket", default=ARCHIVE)
    p = sub.add_parser("put-many")
    p.add_argument("table")
    p = sub.add_parser("send")
    p.add_argument("--body")
    p.add_argument("--body-file")
    p.add_argument("--queue", default="work")
    p = sub.add_parser("send-jobs")
    p.add_argument("file")
    p = sub.add_parser("s3-event")
    p.add_argument("--rec", nargs=2, action="append", required=True, metavar=("EVENT", "KEY"))
    p.add_argument("--bucket", default=ARCHIVE)
    sub.add_parser("test-event")
    p = sub.add_parser("wait-done")
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--run", action="append")
    p.add_argument("--msg", action="append")
    p.add_argument("--min", type=int, default=1)
    p = sub.add_parser("notes")
    p.add_argument("--run")
    p.add_argument("--msg")
    p = sub.add_parser("drain")
    p.add_argument("seconds", type=float)
    p = sub.add_parser("counts")
    p.add_argument("queue")
    p = sub.add_parser("wait-counts")
    p.add_argument("queue")
    p.add_argument("visible", type=int)
    p.add_argument("inflight", type=int)
    p.add_argument("--timeout", type=float, default=20)
    p = sub.add_parser("purge")
    p.add_argument("queue")
    p = sub.add_parser("create-work-queue")
    p.add_argument("name")
    p.add_argument("--visibility", type=int, default=60)
    p.add_argument("--max-receives", type=int, default=3)
    p = sub.add_parser("set-visibility")
    p.add_argument("seconds", type=int)
    p = sub.add_parser("fetch-run")
    p.add_argument("run")
    p.add_argument("dir")
    p = sub.add_parser("fetch-runs")
    p.add_argument("table")
    p.add_argument("dir")
    p = sub.add_parser("get")
    p.add_argument("key")
    p.add_argument("--bucket", default=ARTIFACTS)
    p = sub.add_parser("exists")
    p.add_argument("key")
    p.add_argument("--bucket", default=ARTIFACTS)
    p = sub.add_parser("snapshot")
    p.add_argument("prefix")
    p = sub.add_parser("list")
    p.add_argument("prefix")
    p.add_argument("--bucket", default=ARTIFACTS)
    p = sub.add_parser("check-failure")
    p.add_argument("--msg", required=True)
    p.add_argument("--code", required=True)
    p.add_argument("--body-file", required=True)
    p.add_argument("--where", choices=["run", "errors", "derived"], required=True)
    p.add_argument("--run")
    p.add_argument("--input-key")
    p.add_argument("--input-bucket")
    p.add_argument("--timeout", type=float, default=30)
    p = sub.add_parser("consumer")
    p.add_argument("--out", required=True)
    p.add_argument("--stop-file", required=True)
    p = sub.add_parser("kill-when")
    p.add_argument("--mode", choices=["inflight", "artifact"], required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--queue", default="work")
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("create-user")
    p.add_argument("name")
    p.add_argument("--drop", action="append")
    sub.add_parser("can-get-attributes")
    sub.add_parser("can-admin")
    a = ap.parse_args()
    return globals()["cmd_" + a.cmd.replace("-", "_")](a)


if __name__ == "__main__":
    sys.exit(main())
