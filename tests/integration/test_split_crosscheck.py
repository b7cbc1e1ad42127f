#!/usr/bin/python3
"""Black-box cross-check of `owls-q4 split` against an independent numpy
(LAPACK dgesdd) implementation of SPEC section 3, and of its five artifacts
against SPEC section 4.

Usage:
    /usr/bin/python3 tests/integration/test_split_crosscheck.py [--owls-q4 PATH] [-k SUBSTR] [-v]

The binary is --owls-q4, else $OWLS_Q4, else $OWLS_BUILD/owls-q4, else
build/owls-q4. Each named data set (gen_data.CASES) is written to a temporary
directory, split by the binary, and every artifact is parsed and compared with
the reference below. Exit 0 when every case passes, 1 when one fails, 2 when
the binary is missing or the test itself is broken.

The reference shares no code with the C implementation: it reads the input with
Python's csv module, types columns with its own regex of the SPEC grammar, and
does the algebra with numpy. Tolerances are the SPEC's: projectors 1e-8 per
entry, singular values and energies 1e-9 relative, and rows whose |p1| or |p2|
is below 1e-9*s1/sqrt(N) may land on either side (the energy/row checks then
accept any placement of exactly those rows).

Needs Debian's /usr/bin/python3 (python3-numpy).
"""

import argparse
import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402

ARTIFACTS = ["Q_keep.csv", "Q_discard.csv", "Q_study.json", "er.json"]
ALL_FILES = sorted(ARTIFACTS + ["MANIFEST.json"])
QUADS = ["Q1", "Q2", "Q3", "Q4"]
KEEP = {"Q1": True, "Q2": False, "Q3": False, "Q4": True}
RUN_ID = "xcheck-0001"
RUN_ID_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
RFC3339_UTC = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\Z")
# SPEC 3: optional U+0020 spaces, sign, digits with optional fraction, exponent
NUM_RE = re.compile(r"\A *[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)? *\Z")

PROJ_TOL = 1e-8      # per entry
REL_TOL = 1e-9       # singular values, energies, scaler
TIE_EPS = 1e-12      # sign-convention tie band (SPEC 3)
BAND = 1e-9          # rows with |p| < BAND*s1/sqrt(N) may go either way
MAX_FREE_ROWS = 16   # rows in the tie band we are willing to enumerate


class Ill(Exception):
    """The data set itself is not a fair test (the test is broken)."""


# --- reference: input --------------------------------------------------------

def parse_number(s):
    if not NUM_RE.match(s):
        return None
    v = float(s)
    return v if math.isfinite(v) else None


def read_input(raw):
    """(header, rows) of a valid CSV input, via Python's csv module."""
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, data = rows[0], rows[1:]
    for i, r in enumerate(data):
        if len(r) != len(header):
            raise Ill("data row %d has %d fields, header %d" % (i + 1, len(r), len(header)))
    return header, data


def type_columns(header, data):
    numeric, ignored, cols = [], [], []
    for j, name in enumerate(header):
        vals = [r[j] for r in data]
        parsed = [parse_number(v) for v in vals if v != ""]
        if not parsed:
            ignored.append(name)
        elif all(p is not None for p in parsed):
            if len(parsed) != len(vals):
                raise Ill("column %s has missing values" % name)
            numeric.append(name)
            cols.append(parsed)
        else:
            ignored.append(name)
    return numeric, ignored, np.array(cols, dtype=np.float64).T


# --- reference: algebra --------------------------------------------------------

def col_stats(x):
    """Mean and population sigma, safe from overflow and underflow: the values
    are scaled by max|x| and the deviations by max|x - mu| before squaring."""
    m = float(np.max(np.abs(x)))
    if m == 0.0:
        return 0.0, 0.0
    mu = m * float(np.mean(x / m))
    dev = x - mu
    s = float(np.max(np.abs(dev)))
    if s == 0.0:
        return mu, 0.0
    return mu, s * math.sqrt(float(np.mean((dev / s) ** 2)))


def fix_sign(v):
    a = np.abs(v)
    mx = a.max()
    gap = mx - a
    if np.any((gap > 1e-14) & (gap < 1e-10)):
        raise Ill("an entry of a singular vector is near the 1e-12 tie band edge")
    j = int(np.nonzero(a >= mx - TIE_EPS)[0][0])
    return v if v[j] > 0 else -v


def quadrant(p1, p2):
    if p1 >= 0:
        return "Q1" if p2 >= 0 else "Q4"
    return "Q2" if p2 >= 0 else "Q3"


def reference(raw):
    header, data = read_input(raw)
    numeric, ignored, x = type_columns(header, data)
    n, d = x.shape
    stats = [col_stats(x[:, j]) for j in range(d)]
    mu = np.array([s[0] for s in stats])
    sigma_true = np.array([s[1] for s in stats])
    sigma = np.where(sigma_true == 0.0, 1.0, sigma_true)
    z = (x - mu) / sigma
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    if len(s) > 2 and s[1] - s[2] < 1e-6 * s[0]:
        raise Ill("s2 and s3 are too close for v2 to be defined")
    if s[0] - s[1] < 1e-6 * s[0]:
        raise Ill("s1 and s2 are too close for v1 to be defined")
    v = np.array([fix_sign(vt[0]), fix_sign(vt[1])])
    p = z @ v.T
    band = BAND * s[0] / math.sqrt(n)
    e = np.sum(z * z, axis=1)
    allowed, firm = [], []
    for i in range(n):
        o1 = [1.0] if p[i, 0] >= band else [-1.0] if p[i, 0] <= -band else [1.0, -1.0]
        o2 = [1.0] if p[i, 1] >= band else [-1.0] if p[i, 1] <= -band else [1.0, -1.0]
        allowed.append(sorted({quadrant(a, b) for a in o1 for b in o2}))
        firm.append(quadrant(p[i, 0], p[i, 1]))
    ss = float(np.sum(s * s))
    return {
        "header": header, "data": data, "numeric": numeric, "ignored": ignored,
        "n": n, "d": d, "mean": mu, "scale": sigma, "sigma_true": sigma_true,
        "s": s[:2], "v": v, "ratio": (s[:2] ** 2) / ss, "p": p, "band": band,
        "e": e, "E": float(np.sum(e)), "allowed": allowed, "firm": firm,
        "nonconst": int(np.sum(sigma_true > 0)),
    }


# --- expected CSV bytes --------------------------------------------------------

def render_rows(header, rows):
    return gen_data.render(header, rows)


def interleave(data, keep_rows, disc_rows, prefer_keep):
    """Which input rows went to Q_keep.csv: (flags, None) or (None, bad_row)."""
    g, k, dd = [], 0, 0
    for i, r in enumerate(data):
        mk = k < len(keep_rows) and keep_rows[k] == r
        md = dd < len(disc_rows) and disc_rows[dd] == r
        if mk and (not md or prefer_keep[i]):
            g.append(True)
            k += 1
        elif md:
            g.append(False)
            dd += 1
        else:
            return None, i
    if k != len(keep_rows) or dd != len(disc_rows):
        return None, len(data)
    return g, None


def first_diff_line(a, b):
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return "line %d: expected %r got %r" % (i + 1, x[:120], y[:120])
    return "expected %d lines, got %d" % (len(la), len(lb))


# --- comparisons ----------------------------------------------------------------

class Checker:
    def __init__(self):
        self.errors = []
        self.worst = {}  # field -> (largest |diff|/tol, its |diff|), for -v


    def fail(self, msg):
        self.errors.append(msg)

    def eq(self, what, exp, got):
        if exp != got:
            self.fail("%s: expected %r, got %r" % (what, exp, got))
            return False
        return True

    def close(self, what, exp, got, tol):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            self.fail("%s: expected a number near %r, got %r" % (what, exp, got))
            return False
        key = what.split("[")[0].split(" ")[0]
        ratio = abs(got - exp) / tol if tol > 0 else (0.0 if got == exp else math.inf)
        if ratio >= self.worst.get(key, (-1.0, 0.0))[0]:
            self.worst[key] = (ratio, abs(got - exp))
        if not abs(got - exp) <= tol:
            self.fail("%s: expected %.17g, got %.17g (|diff| %.3g > tol %.3g)"
                      % (what, exp, got, abs(got - exp), tol))
            return False
        return True

    def vec(self, what, exp, got, tol_fn):
        if not isinstance(got, list) or len(got) != len(exp):
            self.fail("%s: expected a list of %d numbers, got %r" % (what, len(exp), got))
            return
        bad = 0
        for j, (a, b) in enumerate(zip(exp, got)):
            if bad < 5 and not self.close("%s[%d]" % (what, j), float(a), b, tol_fn(j, float(a))):
                bad += 1


def reject_constant(name):
    raise ValueError("non-finite JSON number %s" % name)


def load_json(c, path):
    try:
        with open(path, "rb") as f:
            obj = json.loads(f.read().decode("utf-8"), parse_constant=reject_constant)
    except (OSError, ValueError, UnicodeDecodeError) as ex:
        c.fail("%s: not valid JSON: %s" % (os.path.basename(path), ex))
        return None
    if not isinstance(obj, dict):
        c.fail("%s: not a JSON object" % os.path.basename(path))
        return None
    return obj


def get(c, obj, path):
    """obj[a][b]... by a dotted path; None (and a failure) when absent."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            c.fail("missing field %s" % path)
            return None
        cur = cur[part]
    return cur


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def check_split(c, ref, raw, out, run_id):
    files = sorted(os.listdir(out))
    c.eq("files in the output directory", ALL_FILES, files)
    blobs = {}
    for name in ALL_FILES:
        try:
            with open(os.path.join(out, name), "rb") as f:
                blobs[name] = f.read()
        except OSError as ex:
            c.fail("%s: %s" % (name, ex))
    if len(blobs) != len(ALL_FILES):
        return
    n = ref["n"]

    # -- the two CSVs: an interleaving of the input, minimal quoting, '\n' --
    parsed = {}
    for name in ("Q_keep.csv", "Q_discard.csv"):
        try:
            rows = list(csv.reader(io.StringIO(blobs[name].decode("utf-8"), newline=""),
                                   strict=True))
        except (csv.Error, UnicodeDecodeError) as ex:
            c.fail("%s: not parseable CSV: %s" % (name, ex))
            return
        if not rows or rows[0] != ref["header"]:
            c.fail("%s: header: expected %r, got %r"
                   % (name, ref["header"], rows[0] if rows else None))
            return
        parsed[name] = rows[1:]
    prefer = [KEEP[q] for q in ref["firm"]]
    g, bad = interleave(ref["data"], parsed["Q_keep.csv"], parsed["Q_discard.csv"], prefer)
    if g is None:
        if bad < n:
            c.fail("Q_keep.csv + Q_discard.csv are not the input rows in order: input data row "
                   "%d %r is at the head of neither file" % (bad + 1, ref["data"][bad][:6]))
        else:
            c.fail("Q_keep.csv + Q_discard.csv hold rows that are not in the input")
        return
    for name, flag in (("Q_keep.csv", True), ("Q_discard.csv", False)):
        exp = render_rows(ref["header"], [r for r, k in zip(ref["data"], g) if k == flag])
        if blobs[name] != exp:
            c.fail("%s: bytes differ from the input's fields with minimal RFC 4180 quoting and "
                   "'\\n' line ends: %s" % (name, first_diff_line(exp, blobs[name])))
    wrong = [i for i in range(n) if g[i] not in {KEEP[q] for q in ref["allowed"][i]}]
    for i in wrong[:5]:
        c.fail("data row %d: p1=%.6g p2=%.6g (tie band %.3g) belongs to %s, but it is in %s"
               % (i + 1, ref["p"][i, 0], ref["p"][i, 1], ref["band"], ref["firm"][i],
                  "Q_keep.csv" if g[i] else "Q_discard.csv"))
    if len(wrong) > 5:
        c.fail("... %d rows on the wrong side in all" % len(wrong))

    st = load_json(c, os.path.join(out, "Q_study.json"))
    er = load_json(c, os.path.join(out, "er.json"))
    man = load_json(c, os.path.join(out, "MANIFEST.json"))
    if st is None or er is None or man is None:
        return
    in_sha, in_bytes = sha256(raw), len(raw)

    # -- Q_study.json --
    c.eq("Q_study.schema", "owls-q4.study/1", get(c, st, "schema"))
    c.eq("Q_study.run_id", run_id, get(c, st, "run_id"))
    c.eq("Q_study.input.format", "csv", get(c, st, "input.format"))
    c.eq("Q_study.input.bytes", in_bytes, get(c, st, "input.bytes"))
    c.eq("Q_study.input.sha256", in_sha, get(c, st, "input.sha256"))
    if not isinstance(get(c, st, "input.key"), str):
        c.fail("Q_study.input.key: not a string")
    c.eq("Q_study.rows", n, get(c, st, "rows"))
    c.eq("Q_study.columns", ref["header"], get(c, st, "columns"))
    c.eq("Q_study.numeric_columns", ref["numeric"], get(c, st, "numeric_columns"))
    c.eq("Q_study.ignored_columns", ref["ignored"], get(c, st, "ignored_columns"))
    sig = ref["sigma_true"]
    c.vec("Q_study.scaler.mean", ref["mean"], get(c, st, "scaler.mean"),
          lambda j, a: REL_TOL * max(abs(a), sig[j]))
    c.vec("Q_study.scaler.scale", ref["scale"], get(c, st, "scaler.scale"),
          lambda j, a: REL_TOL * a)
    proj = get(c, st, "projectors")
    if not isinstance(proj, list) or len(proj) != 2:
        c.fail("Q_study.projectors: expected [[v1],[v2]], got %r" % (proj,))
    else:
        for k in range(2):
            c.vec("Q_study.projectors[%d]" % k, ref["v"][k], proj[k], lambda j, a: PROJ_TOL)
    s1 = float(ref["s"][0])
    c.vec("Q_study.singular_values", ref["s"], get(c, st, "singular_values"),
          lambda j, a: REL_TOL * a + 1e-12 * s1)
    c.vec("Q_study.explained_variance_ratio", ref["ratio"],
          get(c, st, "explained_variance_ratio"), lambda j, a: REL_TOL * a + 1e-15)
    c.eq("Q_study.keep_quadrants", ["Q1", "Q4"], get(c, st, "keep_quadrants"))
    qrows = get(c, st, "quadrant_rows")

    # -- er.json --
    E = ref["E"]
    etol = lambda a: REL_TOL * abs(a) + 1e-13 * E  # noqa: E731
    c.eq("er.schema", "owls-q4.energy/1", get(c, er, "schema"))
    c.close("er.total_energy", E, get(c, er, "total_energy"), etol(E))
    # an independent identity: every non-constant standardized column adds N
    c.close("er.total_energy (= N x non-constant columns)", float(n * ref["nonconst"]),
            get(c, er, "total_energy"), etol(E))
    e = ref["e"]
    for side, flag in (("keep", True), ("discard", False)):
        rows = sum(1 for k in g if k == flag)
        en = float(sum(e[i] for i in range(n) if g[i] == flag))
        c.eq("er.%s.rows (rows in its CSV)" % side, rows, get(c, er, side + ".rows"))
        c.close("er.%s.energy" % side, en, get(c, er, side + ".energy"), etol(en))
        c.close("er.%s.fraction" % side, en / E if E else 0.0, get(c, er, side + ".fraction"),
                REL_TOL * (en / E if E else 0.0) + 1e-13)
    check_quadrants(c, ref, g, qrows, get(c, er, "quadrants"), etol)

    # -- MANIFEST.json --
    c.eq("MANIFEST.schema", "owls-q4.manifest/1", get(c, man, "schema"))
    c.eq("MANIFEST.run_id", run_id, get(c, man, "run_id"))
    c.eq("MANIFEST.input.bucket", None, get(c, man, "input.bucket"))
    c.eq("MANIFEST.input.etag", None, get(c, man, "input.etag"))
    c.eq("MANIFEST.input.bytes", in_bytes, get(c, man, "input.bytes"))
    c.eq("MANIFEST.input.sha256", in_sha, get(c, man, "input.sha256"))
    c.eq("MANIFEST.input.key = Q_study.input.key", (st.get("input") if isinstance(st.get("input"), dict) else {}).get("key"),
         get(c, man, "input.key"))
    arts = get(c, man, "artifacts")
    if not isinstance(arts, list):
        c.fail("MANIFEST.artifacts: not a list")
    else:
        c.eq("MANIFEST.artifacts names", sorted(ARTIFACTS),
             sorted(a.get("name") for a in arts if isinstance(a, dict)))
        for a in arts:
            if not isinstance(a, dict) or a.get("name") not in blobs:
                continue
            nm, b = a["name"], blobs[a["name"]]
            c.eq("MANIFEST %s.key" % nm, "run=%s/%s" % (run_id, nm), a.get("key"))
            c.eq("MANIFEST %s.bytes" % nm, len(b), a.get("bytes"))
            c.eq("MANIFEST %s.sha256" % nm, sha256(b), a.get("sha256"))
            ct = a.get("content_type")
            want = "text/csv" if nm.endswith(".csv") else "application/json"
            if not isinstance(ct, str) or not ct.startswith(want):
                c.fail("MANIFEST %s.content_type: expected %s..., got %r" % (nm, want, ct))
    for f in ("producer.name", "producer.version", "producer.host"):
        v = get(c, man, f)
        if not isinstance(v, str) or not v:
            c.fail("MANIFEST.%s: expected a non-empty string, got %r" % (f, v))
    t0, t1 = get(c, man, "started_at"), get(c, man, "finished_at")
    for nm, t in (("started_at", t0), ("finished_at", t1)):
        if not isinstance(t, str) or not RFC3339_UTC.match(t):
            c.fail("MANIFEST.%s: not RFC 3339 UTC: %r" % (nm, t))
    if isinstance(t0, str) and isinstance(t1, str) and t0[:19] > t1[:19]:
        c.fail("MANIFEST: started_at %s is after finished_at %s" % (t0, t1))
    mt = {nm: os.stat(os.path.join(out, nm)).st_mtime_ns for nm in ALL_FILES}
    if any(mt[nm] > mt["MANIFEST.json"] for nm in ARTIFACTS):
        c.fail("MANIFEST.json is older than an artifact (it must be written last)")


def check_quadrants(c, ref, g, qrows, quads, etol):
    """quadrant_rows and er.quadrants, allowing the rows in the tie band to sit
    in any quadrant consistent with their band and with the CSV they are in."""
    if not isinstance(qrows, dict) or not isinstance(quads, dict):
        c.fail("quadrant_rows / er.quadrants: not objects")
        return
    got_rows, got_en, got_fr = {}, {}, {}
    for q in QUADS:
        got_rows[q] = qrows.get(q)
        o = quads.get(q)
        if not isinstance(o, dict):
            c.fail("er.quadrants.%s: missing" % q)
            return
        c.eq("er.quadrants.%s.rows = Q_study.quadrant_rows.%s" % (q, q), got_rows[q],
             o.get("rows"))
        got_en[q], got_fr[q] = o.get("energy"), o.get("fraction")
    e, E = ref["e"], ref["E"]
    base_rows = {q: 0 for q in QUADS}
    base_en = {q: 0.0 for q in QUADS}
    free = []
    for i in range(ref["n"]):
        opts = [q for q in ref["allowed"][i] if KEEP[q] == g[i]] or [ref["firm"][i]]
        if len(opts) == 1:
            base_rows[opts[0]] += 1
            base_en[opts[0]] += e[i]
        else:
            free.append((i, opts))
    if len(free) > MAX_FREE_ROWS:
        raise Ill("%d rows in the tie band: too many to enumerate" % len(free))

    def matches(rows, en):
        for q in QUADS:
            if rows[q] != got_rows[q]:
                return False
            if not isinstance(got_en[q], (int, float)) or abs(got_en[q] - en[q]) > etol(en[q]):
                return False
            fr = en[q] / E if E else 0.0
            if not isinstance(got_fr[q], (int, float)) or abs(got_fr[q] - fr) > REL_TOL * fr + 1e-13:
                return False
        return True

    for choice in itertools.product(*[opts for _, opts in free]):
        rows, en = dict(base_rows), dict(base_en)
        for (i, _), q in zip(free, choice):
            rows[q] += 1
            en[q] += e[i]
        if matches(rows, en):
            return
    # no placement fits: report against the reference's own signs
    rows, en = dict(base_rows), dict(base_en)
    for i, _ in free:
        q = ref["firm"][i]
        rows[q] += 1
        en[q] += e[i]
    why = "%d rows in the tie band" % len(free) if free else "no rows in the tie band"
    for q in QUADS:
        fr = en[q] / E if E else 0.0
        c.fail("quadrant %s (%s): expected rows %d energy %.17g fraction %.17g; "
               "got rows %r energy %r fraction %r"
               % (q, why, rows[q], en[q], fr, got_rows[q], got_en[q], got_fr[q]))


# --- running the binary ----------------------------------------------------------

def run_split(binary, inp, out, run_id=RUN_ID, extra=(), env=None):
    argv = [binary, "split", inp, "-o", out] + (["--run-id", run_id] if run_id else []) + list(extra)
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(argv, capture_output=True, timeout=600, env=e)


def describe(res):
    err = res.stderr.decode("utf-8", "replace").strip().splitlines()
    return "exit %d, stderr %r" % (res.returncode, err[:3])


def thread_variants(binary):
    """Environment (and option) variations that must not change a byte."""
    variants = [({"OWLS_THREADS": "1", "OMP_NUM_THREADS": "1"}, []),
                ({"OWLS_THREADS": "4", "OMP_NUM_THREADS": "4"}, [])]
    try:
        h = subprocess.run([binary, "--help"], capture_output=True, timeout=30)
        text = (h.stdout + h.stderr).decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired):
        text = ""
    if "--threads" in text:
        variants += [({}, ["--threads", "1"]), ({}, ["--threads", "3"])]
    return variants


def case_crosscheck(binary, tmp, name, determinism):
    c = Checker()
    raw = gen_data.CASES[name]()
    inp = os.path.join(tmp, name + ".csv")
    with open(inp, "wb") as f:
        f.write(raw)
    ref = reference(raw)
    out = os.path.join(tmp, name + ".out")
    res = run_split(binary, inp, out)
    if res.returncode != 0:
        c.fail("owls-q4 split failed: " + describe(res))
        return c
    check_split(c, ref, raw, out, RUN_ID)
    if determinism:
        first = {}
        for nm in ARTIFACTS:
            with open(os.path.join(out, nm), "rb") as f:
                first[nm] = f.read()
        for k, (env, extra) in enumerate([({}, [])] + thread_variants(binary)):
            o2 = os.path.join(tmp, "%s.again%d" % (name, k))
            res = run_split(binary, inp, o2, env=env, extra=extra)
            what = "re-run with env %r options %r" % (env, extra)
            if res.returncode != 0:
                c.fail("%s failed: %s" % (what, describe(res)))
                continue
            for nm in ARTIFACTS:
                with open(os.path.join(o2, nm), "rb") as f:
                    if f.read() != first[nm]:
                        c.fail("determinism: %s: %s differs from the first run" % (what, nm))
    return c


def case_generated_run_id(binary, tmp):
    """Without --run-id the run id is generated, valid, and used in every key."""
    c = Checker()
    raw = gen_data.CASES["3x2-exact-tie"]()
    inp = os.path.join(tmp, "noid.csv")
    with open(inp, "wb") as f:
        f.write(raw)
    out = os.path.join(tmp, "noid.out")
    res = run_split(binary, inp, out, run_id=None)
    if res.returncode != 0:
        c.fail("owls-q4 split without --run-id failed: " + describe(res))
        return c
    man = load_json(c, os.path.join(out, "MANIFEST.json"))
    rid = man.get("run_id") if isinstance(man, dict) else None
    if not isinstance(rid, str) or not RUN_ID_RE.match(rid):
        c.fail("generated run_id %r does not match the SPEC pattern" % (rid,))
        return c
    check_split(c, reference(raw), raw, out, rid)
    return c


DETERMINISM = {"gauss-10000x8", "quoted-fields", "3x2-exact-tie", "zero-variance",
               "mixed-magnitudes"}


def main(argv):
    ap = argparse.ArgumentParser(description="owls-q4 split vs a numpy/LAPACK reference")
    ap.add_argument("--owls-q4", dest="binary")
    ap.add_argument("-k", dest="filter", default="")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="print the largest deviation per field")
    ap.add_argument("--keep-tmp", action="store_true")
    a = ap.parse_args(argv)
    binary = a.binary or os.environ.get("OWLS_Q4") or os.path.join(
        os.environ.get("OWLS_BUILD", "build"), "owls-q4")
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        print("crosscheck: no executable owls-q4 at %s" % binary, file=sys.stderr)
        return 2
    cases = [(nm, lambda t, nm=nm: case_crosscheck(binary, t, nm, nm in DETERMINISM))
             for nm in gen_data.CASES]
    cases.append(("generated-run-id", lambda t: case_generated_run_id(binary, t)))
    tmp = tempfile.mkdtemp(prefix="owls-xcheck-")
    failed, broken, ran = [], [], 0
    try:
        for nm, fn in cases:
            if a.filter not in nm:
                continue
            ran += 1
            t0 = time.monotonic()
            try:
                chk = fn(tmp)
                errs = chk.errors
            except Ill as ex:
                broken.append(nm)
                print("BROKEN %s: the data set is not a fair test: %s" % (nm, ex))
                continue
            dt = time.monotonic() - t0
            if errs:
                failed.append(nm)
                print("FAIL %s (%.1f s)" % (nm, dt))
                for m in errs[:25]:
                    print("    " + m)
                if len(errs) > 25:
                    print("    ... %d more" % (len(errs) - 25))
            else:
                print("ok   %s (%.1f s)" % (nm, dt))
            if a.verbose:
                for k in sorted(chk.worst):
                    r, d = chk.worst[k]
                    print("    worst %-40s |diff| %.3g = %.3g of the tolerance" % (k, d, r))
    finally:
        if a.keep_tmp:
            print("crosscheck: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("crosscheck: %d cases, %d failed, %d broken%s"
          % (ran, len(failed), len(broken), (": " + " ".join(failed + broken)) if failed or broken else ""))
    if broken:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
