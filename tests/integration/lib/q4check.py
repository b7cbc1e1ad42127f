#!/usr/bin/python3
"""q4check.py -- offline checks of one daemon run, for the e2e tests.

Runs with Debian's /usr/bin/python3 (numpy); knows nothing of AWS: owlsq.py
(or the aws CLI) downloads a run's objects into a directory first.

    q4check.py gen ROWS OUT [--seed N] [--text]     a CSV input (see gen_csv)
    q4check.py gen-many DIR COUNT ROWS [--seed N]   DIR/in-0001.csv ...
    q4check.py run --dir D --run-id R --input FILE --input-key K
                   --input-bucket B --etag E [--notification N.json]
                   [--listing L.json] [--version V] [--duplicate]
    q4check.py run-many TABLE DIR [--version V]      `run` for each line RUN<TAB>FILE<TAB>KEY<TAB>ETAG
                                                    of TABLE, objects in DIR/RUN/ (owlsq.py
                                                    fetch-runs), every succeeded notification
    q4check.py same-outputs DIR_A DIR_B             the three run-independent
                                                    artifacts are byte-identical

`run` checks, against the SPEC (sections 3, 4 and 5), and prints one line per
problem (nothing when all is well; exit 1 when anything is wrong):
  * the listing holds exactly the five artifacts and no ERROR.json;
  * MANIFEST.json: schema, run_id, input {bucket, key, etag, bytes, sha256}
    (etag = what S3 reports, without quotes), the four artifacts with key,
    bytes, sha256 and content_type matching the downloaded bytes, producer,
    started_at <= finished_at (RFC 3339 UTC);
  * Q_study.json and er.json: schema and the fields the SPEC lists;
  * Q_keep.csv / Q_discard.csv partition the input rows, in input order,
    byte for byte, as this file's own numpy reference of the Q4 split says
    (rows within 1e-9*s1/sqrt(N) of an axis may go either way, SPEC 3);
  * energies against the reference (1e-9 relative);
  * the done notification(s): schema, status, run_id, input, artifacts,
    rows, keep_energy_fraction == er.json keep.fraction exactly.
The reference is independent of the code under test: numpy's LAPACK SVD.
"""

import argparse
import csv
import hashlib
import io
import json
import math
import os
import re
import sys
from datetime import datetime, timezone

import numpy as np

ARTIFACTS = ["Q_keep.csv", "Q_discard.csv", "Q_study.json", "er.json"]
CTYPES = {"Q_keep.csv": "text/csv", "Q_discard.csv": "text/csv",
          "Q_study.json": "application/json", "er.json": "application/json"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# SPEC 3's number grammar: spaces, sign, digits with optional fraction, exponent
NUMBER = re.compile(r"^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$")


# --- inputs -----------------------------------------------------------------

def gen_csv(rows, seed, text=False):
    """CSV bytes: header + rows of 3 correlated gaussian columns x,y,z (6
    decimals, so every field is exactly what the daemon must copy), and with
    text=True a leading id column and a trailing note column that needs RFC
    4180 quoting (commas, quotes). Minimal quoting and \\n line ends, so the
    daemon's outputs must reproduce the input lines byte for byte."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((rows, 3))
    x = np.column_stack([g[:, 0] * 3 + 1, g[:, 0] * 1.5 + g[:, 1], g[:, 2] * 0.5 - g[:, 1]])
    out = io.StringIO()
    out.write("id,x,y,z,note\n" if text else "x,y,z\n")
    notes = ['plain', '"a, b"', '"say ""hi"""', 'caf\u00e9', '']
    for i, r in enumerate(x.tolist()):
        vals = ",".join("%.6f" % v for v in r)
        if text:
            out.write("r%05d,%s,%s\n" % (i + 1, vals, notes[i % len(notes)]))
        else:
            out.write(vals + "\n")
    return out.getvalue().encode("utf-8")


# --- the reference Q4 split -----------------------------------------------------

def split_lines(data):
    """Raw records of a CSV whose fields never hold a newline (our inputs):
    each line with its '\\n'."""
    return data.decode("utf-8").splitlines(keepends=True)


def parse(line):
    return next(csv.reader([line.rstrip("\n")]))


def reference(input_bytes):
    """Per data row: 'keep', 'discard' or 'either'; plus energies and the
    numeric column names. Follows SPEC 3 with numpy's SVD."""
    lines = split_lines(input_bytes)
    header = parse(lines[0])
    rows = [parse(l) for l in lines[1:]]
    numeric = [j for j in range(len(header))
               if all(NUMBER.match(r[j]) and math.isfinite(float(r[j])) for r in rows)]
    x = np.array([[float(r[j]) for j in numeric] for r in rows], dtype=np.float64)
    n = x.shape[0]
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    z = (x - mu) / sd
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    v = vt[:2].copy()
    for k in range(2):
        m = np.max(np.abs(v[k]))
        idx = int(np.nonzero(np.abs(v[k]) >= m - 1e-12)[0][0])
        if v[k][idx] < 0:
            v[k] = -v[k]
    p = z @ v.T
    e = (z * z).sum(axis=1)
    eps = 1e-9 * s[0] / math.sqrt(n)
    labels = []
    for i in range(n):
        if abs(p[i, 0]) < eps or abs(p[i, 1]) < eps:
            labels.append("either")
        else:
            labels.append("keep" if p[i, 0] >= 0 else "discard")
    return {"header_line": lines[0], "lines": lines[1:], "labels": labels, "energy": e,
            "numeric": [header[j] for j in numeric], "columns": header, "n": n,
            "s": s[:2], "sq_sum": float((s * s).sum())}


def check_partition(ref, keep_bytes, discard_bytes, problems):
    """Q_keep/Q_discard hold the input's header and rows, in input order, byte
    for byte, split as the reference says. Returns (kept row indices)."""
    kl = split_lines(keep_bytes)
    dl = split_lines(discard_bytes)
    for name, b in (("Q_keep.csv", keep_bytes), ("Q_discard.csv", discard_bytes)):
        if b"\r" in b:
            problems.append(f"{name}: has CR bytes (SPEC 4: \\n line ends)")
        if not b.endswith(b"\n"):
            problems.append(f"{name}: does not end with a newline")
    if not kl or kl[0] != ref["header_line"]:
        problems.append(f"Q_keep.csv: header {kl[:1]!r} != input header {ref['header_line']!r}")
    if not dl or dl[0] != ref["header_line"]:
        problems.append(f"Q_discard.csv: header {dl[:1]!r} != input header {ref['header_line']!r}")
    ki, di = 1, 1
    kept = []
    for i, (line, lab) in enumerate(zip(ref["lines"], ref["labels"])):
        in_k = ki < len(kl) and kl[ki] == line
        in_d = di < len(dl) and dl[di] == line
        if lab == "keep" and in_k or lab == "either" and in_k:
            ki += 1
            kept.append(i)
        elif lab == "discard" and in_d or lab == "either" and in_d:
            di += 1
        else:
            problems.append(
                f"row {i + 1} ({line.rstrip()!r}): reference says {lab}, but it is not the next "
                f"row of the matching file (Q_keep next: {kl[ki] if ki < len(kl) else None!r}, "
                f"Q_discard next: {dl[di] if di < len(dl) else None!r})")
            return kept
    if ki != len(kl) or di != len(dl):
        problems.append(f"extra rows: Q_keep.csv has {len(kl) - ki}, Q_discard.csv {len(dl) - di} "
                        "rows that are not input rows in order")
    return kept


# --- helpers ------------------------------------------------------------------

def sha256(b):
    return hashlib.sha256(b).hexdigest()


def rel_close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)


def is_utc(s):
    return isinstance(s, str) and bool(RFC3339_UTC.match(s))


def parse_time(s):
    return datetime.strptime(s.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc)


def load_json(path, problems, name):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError) as e:
        problems.append(f"{name}: cannot read as JSON: {e}")
        return None


def expect(problems, what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")


# --- run --------------------------------------------------------------------------

def check_run(a):
    problems = []
    d = a.dir
    prefix = f"run={a.run_id}/"
    with open(a.input, "rb") as f:
        inp = f.read()

    if a.listing:
        with open(a.listing) as f:
            listing = json.load(f)
        keys = sorted(o["key"] for o in listing)
        want = sorted(prefix + n for n in ARTIFACTS + ["MANIFEST.json"])
        expect(problems, "objects under " + prefix, keys, want)
        ctypes = {o["key"]: o.get("content_type") for o in listing}
    else:
        ctypes = {}

    files = {}
    for n in ARTIFACTS + ["MANIFEST.json"]:
        try:
            with open(os.path.join(d, n), "rb") as f:
                files[n] = f.read()
        except OSError:
            problems.append(f"{n}: missing")
    if "MANIFEST.json" not in files:
        return problems
    m = load_json(os.path.join(d, "MANIFEST.json"), problems, "MANIFEST.json")
    if not isinstance(m, dict):
        return problems + ["MANIFEST.json: not an object"]

    expect(problems, "MANIFEST schema", m.get("schema"), "owls-q4.manifest/1")
    expect(problems, "MANIFEST run_id", m.get("run_id"), a.run_id)
    mi = m.get("input") or {}
    expect(problems, "MANIFEST input.bucket", mi.get("bucket"), a.input_bucket)
    expect(problems, "MANIFEST input.key", mi.get("key"), a.input_key)
    expect(problems, "MANIFEST input.etag (S3's ETag without quotes)", mi.get("etag"), a.etag)
    expect(problems, "MANIFEST input.bytes", mi.get("bytes"), len(inp))
    expect(problems, "MANIFEST input.sha256", mi.get("sha256"), sha256(inp))
    arts = m.get("artifacts")
    if not isinstance(arts, list):
        problems.append("MANIFEST artifacts: not a list")
        arts = []
    expect(problems, "MANIFEST artifact names", sorted(x.get("name") for x in arts), sorted(ARTIFACTS))
    for x in arts:
        n = x.get("name")
        if n not in files:
            continue
        expect(problems, f"MANIFEST {n} key", x.get("key"), prefix + n)
        expect(problems, f"MANIFEST {n} bytes", x.get("bytes"), len(files[n]))
        expect(problems, f"MANIFEST {n} sha256", x.get("sha256"), sha256(files[n]))
        expect(problems, f"MANIFEST {n} content_type", x.get("content_type"), CTYPES[n])
        if ctypes and prefix + n in ctypes:
            # operator expectation: the object's Content-Type is what MANIFEST declares
            expect(problems, f"S3 Content-Type of {n}", ctypes[prefix + n], x.get("content_type"))
    prod = m.get("producer") or {}
    for k in ("name", "version", "host"):
        if not isinstance(prod.get(k), str) or not prod.get(k):
            problems.append(f"MANIFEST producer.{k}: missing or empty ({prod.get(k)!r})")
    if a.version:
        expect(problems, "MANIFEST producer.version", prod.get("version"), a.version)
    sa, fa = m.get("started_at"), m.get("finished_at")
    if not is_utc(sa) or not is_utc(fa):
        problems.append(f"MANIFEST started_at/finished_at not RFC 3339 UTC: {sa!r} {fa!r}")
    elif parse_time(sa) > parse_time(fa):
        problems.append(f"MANIFEST started_at {sa} after finished_at {fa}")

    ref = reference(inp)
    st = load_json(os.path.join(d, "Q_study.json"), problems, "Q_study.json") or {}
    er = load_json(os.path.join(d, "er.json"), problems, "er.json") or {}
    expect(problems, "Q_study schema", st.get("schema"), "owls-q4.study/1")
    expect(problems, "Q_study run_id", st.get("run_id"), a.run_id)
    si = st.get("input") or {}
    expect(problems, "Q_study input.key", si.get("key"), a.input_key)
    if a.input_key.endswith((".csv", ".parquet")):
        expect(problems, "Q_study input.format", si.get("format"), a.input_key.rsplit(".", 1)[1])
    expect(problems, "Q_study input.bytes", si.get("bytes"), len(inp))
    expect(problems, "Q_study input.sha256", si.get("sha256"), sha256(inp))
    expect(problems, "Q_study rows", st.get("rows"), ref["n"])
    expect(problems, "Q_study columns", st.get("columns"), ref["columns"])
    expect(problems, "Q_study numeric_columns", st.get("numeric_columns"), ref["numeric"])
    expect(problems, "Q_study keep_quadrants", st.get("keep_quadrants"), ["Q1", "Q4"])
    sv = st.get("singular_values") or []
    if len(sv) != 2 or not all(rel_close(float(g), float(w)) for g, w in zip(sv, ref["s"])):
        problems.append(f"Q_study singular_values {sv!r} != reference {list(ref['s'])!r} (1e-9 rel)")
    expect(problems, "er schema", er.get("schema"), "owls-q4.energy/1")

    before = len(problems)
    kept = check_partition(ref, files.get("Q_keep.csv", b""), files.get("Q_discard.csv", b""),
                           problems)
    partition_ok = len(problems) == before
    nkeep = len(split_lines(files.get("Q_keep.csv", b""))) - 1
    ndisc = len(split_lines(files.get("Q_discard.csv", b""))) - 1
    ek = float(ref["energy"][kept].sum()) if kept else 0.0
    etot = float(ref["energy"].sum())
    keep = er.get("keep") or {}
    expect(problems, "er.json keep.rows", keep.get("rows"), nkeep)
    expect(problems, "er.json discard.rows", (er.get("discard") or {}).get("rows"), ndisc)
    if partition_ok and (not isinstance(keep.get("energy"), (int, float))
                         or not rel_close(keep["energy"], ek)):
        problems.append(f"er.json keep.energy {keep.get('energy')!r} != reference {ek!r}")
    if not isinstance(er.get("total_energy"), (int, float)) or not rel_close(er["total_energy"], etot):
        problems.append(f"er.json total_energy {er.get('total_energy')!r} != reference {etot!r}")
    qr = st.get("quadrant_rows") or {}
    if qr and (qr.get("Q1", 0) + qr.get("Q4", 0) != nkeep or qr.get("Q2", 0) + qr.get("Q3", 0) != ndisc):
        problems.append(f"Q_study quadrant_rows {qr} disagree with the CSVs ({nkeep} kept, {ndisc} discarded)")

    for path in a.notification or []:
        nt = load_json(path, problems, os.path.basename(path))
        if nt is not None:
            check_notification(nt, a, keep.get("fraction"), nkeep, ndisc, problems)
    return problems


def check_notification(nt, a, fraction, nkeep, ndisc, problems):
    w = "notification"
    expect(problems, f"{w} schema", nt.get("schema"), "owls-q4.done/1")
    expect(problems, f"{w} status", nt.get("status"), "succeeded")
    expect(problems, f"{w} run_id", nt.get("run_id"), a.run_id)
    expect(problems, f"{w} input", nt.get("input"), {"bucket": a.input_bucket, "key": a.input_key})
    art = nt.get("artifacts") or {}
    expect(problems, f"{w} artifacts.prefix", art.get("prefix"), f"run={a.run_id}/")
    expect(problems, f"{w} artifacts.manifest", art.get("manifest"), f"run={a.run_id}/MANIFEST.json")
    if not isinstance(art.get("bucket"), str) or not art.get("bucket"):
        problems.append(f"{w} artifacts.bucket missing")
    expect(problems, f"{w} rows", nt.get("rows"), {"keep": nkeep, "discard": ndisc})
    # full precision: the same double as er.json's keep.fraction
    expect(problems, f"{w} keep_energy_fraction (== er.json keep.fraction)",
           nt.get("keep_energy_fraction"), fraction)
    if not isinstance(nt.get("work_message_id"), str) or not nt.get("work_message_id"):
        problems.append(f"{w} work_message_id missing")
    dm = nt.get("duration_ms")
    if not isinstance(dm, int) or isinstance(dm, bool) or dm < 0:
        problems.append(f"{w} duration_ms {dm!r} is not a non-negative integer")
    if a.duplicate:
        expect(problems, f"{w} duplicate", nt.get("duplicate"), True)
    elif nt.get("duplicate") not in (None, False):
        problems.append(f"{w} duplicate: got {nt.get('duplicate')!r} for a first computation")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("rows", type=int)
    g.add_argument("out")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--text", action="store_true")
    gm = sub.add_parser("gen-many")
    gm.add_argument("dir")
    gm.add_argument("count", type=int)
    gm.add_argument("rows", type=int)
    gm.add_argument("--seed", type=int, default=100)
    r = sub.add_parser("run")
    for k in ("--dir", "--run-id", "--input", "--input-key", "--input-bucket", "--etag"):
        r.add_argument(k, required=True)
    r.add_argument("--notification", action="append")
    r.add_argument("--listing")
    r.add_argument("--version")
    r.add_argument("--duplicate", action="store_true")
    rm = sub.add_parser("run-many")
    rm.add_argument("table")
    rm.add_argument("dir")
    rm.add_argument("--version")
    rm.add_argument("--input-bucket", required=True)
    so = sub.add_parser("same-outputs")
    so.add_argument("a")
    so.add_argument("b")
    a = ap.parse_args()

    if a.cmd == "gen":
        with open(a.out, "wb") as f:
            f.write(gen_csv(a.rows, a.seed, a.text))
        return 0
    if a.cmd == "gen-many":
        os.makedirs(a.dir, exist_ok=True)
        for i in range(1, a.count + 1):
            with open(os.path.join(a.dir, "in-%04d.csv" % i), "wb") as f:
                f.write(gen_csv(a.rows, a.seed + i, text=(i % 2 == 0)))
        return 0
    if a.cmd == "same-outputs":
        bad = 0
        for n in ("Q_keep.csv", "Q_discard.csv", "er.json"):
            try:
                with open(os.path.join(a.a, n), "rb") as f1, open(os.path.join(a.b, n), "rb") as f2:
                    h1, h2 = sha256(f1.read()), sha256(f2.read())
            except OSError as e:
                print(f"{n}: {e}")
                bad += 1
                continue
            if h1 != h2:
                print(f"{n}: sha256 {h1} != {h2}")
                bad += 1
        return 1 if bad else 0
    if a.cmd == "run-many":
        nbad = 0
        with open(a.table) as f:
            rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
        for run, inp, key, etag in rows:
            d = os.path.join(a.dir, run)
            notes = []
            try:
                with open(os.path.join(d, "_notes.json")) as f:
                    allnotes = json.load(f)
            except (OSError, ValueError):
                allnotes = []
            dups = []
            for i, n in enumerate(x for x in allnotes if x.get("status") == "succeeded"):
                path = os.path.join(d, "_note%d.json" % i)
                with open(path, "w") as f:
                    json.dump(n, f)
                (dups if n.get("duplicate") is True else notes).append(path)
            ns = argparse.Namespace(dir=d, run_id=run, input=inp, input_key=key,
                                    input_bucket=a.input_bucket, etag=etag, notification=notes,
                                    listing=os.path.join(d, "_listing.json"),
                                    version=a.version, duplicate=False)
            problems = check_run(ns) if os.path.isdir(d) else ["not fetched"]
            if dups and os.path.isdir(d):  # at least once: repeats must agree with the run
                ns.notification, ns.duplicate = dups, True
                problems += ["(duplicate notification) " + p for p in check_run(ns)]
            if not notes:
                problems.append("no succeeded notification without duplicate: true")
            failed = [x for x in allnotes if x.get("status") != "succeeded"]
            if failed:
                problems.append("non-succeeded notifications: %s" % json.dumps(failed)[:300])
            for p in problems:
                print("%s: %s" % (run, p))
            nbad += bool(problems)
        print("%d of %d runs with problems" % (nbad, len(rows)))
        return 1 if nbad else 0
    for k in ("input_bucket", "etag"):  # "null": the CLI's local runs
        if getattr(a, k) == "null":
            setattr(a, k, None)
    problems = check_run(a)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
