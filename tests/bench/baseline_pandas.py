#!/usr/bin/python3
"""The Q4 split done the way the original Python design did it, as the
benchmark's yardstick for `owls-q4 split`.

    /usr/bin/python3 tests/bench/baseline_pandas.py INPUT.csv OUTDIR [RUN_ID]

pandas read_csv -> scikit-learn StandardScaler -> PCA(n_components=2, LAPACK
"full" solver) -> SPEC section 3's sign convention and quadrants -> to_csv of
the keep/discard rows -> json dumps of Q_study.json, er.json and a MANIFEST
with sha256 of the input and of every artifact: the same job and the same
five files as the C program, in the same process shape (one command, from
start-up to the last byte written). It is a yardstick, not a reference: the
numbers it writes are not checked (test_split_crosscheck.py is the numerical
reference), and to_csv re-prints numbers rather than copying input fields.

Needs Debian's /usr/bin/python3 with python3-pandas and python3-sklearn.
"""

import datetime
import hashlib
import json
import os
import socket
import sys

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sign_fix(v):
    a = np.abs(v)
    j = int(np.nonzero(a >= a.max() - 1e-12)[0][0])
    return v if v[j] > 0 else -v


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().split("\n")[2], file=sys.stderr)
        return 64
    inp, out = argv[0], argv[1]
    run_id = argv[2] if len(argv) == 3 else "baseline"
    started = now()
    os.makedirs(out, exist_ok=True)

    df = pd.read_csv(inp)
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    ignored = [c for c in df.columns if c not in numeric]
    x = df[numeric].to_numpy(dtype=np.float64)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    pca = PCA(n_components=2, svd_solver="full").fit(z)
    v = np.array([sign_fix(pca.components_[0]), sign_fix(pca.components_[1])])
    p = z @ v.T
    q1 = (p[:, 0] >= 0) & (p[:, 1] >= 0)
    q2 = (p[:, 0] < 0) & (p[:, 1] >= 0)
    q3 = (p[:, 0] < 0) & (p[:, 1] < 0)
    q4 = (p[:, 0] >= 0) & (p[:, 1] < 0)
    keep = q1 | q4
    e = np.einsum("ij,ij->i", z, z)
    total = float(e.sum())

    df[keep].to_csv(os.path.join(out, "Q_keep.csv"), index=False)
    df[~keep].to_csv(os.path.join(out, "Q_discard.csv"), index=False)

    in_sha, in_bytes = sha256_file(inp), os.path.getsize(inp)
    s = pca.singular_values_
    study = {
        "schema": "owls-q4.study/1", "run_id": run_id,
        "input": {"key": os.path.basename(inp), "format": "csv", "bytes": in_bytes,
                  "sha256": in_sha},
        "rows": int(len(df)), "columns": list(df.columns), "numeric_columns": numeric,
        "ignored_columns": ignored,
        "scaler": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "projectors": v.tolist(), "singular_values": s[:2].tolist(),
        "explained_variance_ratio": (s[:2] ** 2 / float(np.sum(z * z))).tolist(),
        "quadrant_rows": {"Q1": int(q1.sum()), "Q2": int(q2.sum()), "Q3": int(q3.sum()),
                          "Q4": int(q4.sum())},
        "keep_quadrants": ["Q1", "Q4"],
    }

    def part(mask):
        en = float(e[mask].sum())
        return {"rows": int(mask.sum()), "energy": en, "fraction": en / total if total else 0.0}

    er = {
        "schema": "owls-q4.energy/1", "total_energy": total,
        "quadrants": {"Q1": part(q1), "Q2": part(q2), "Q3": part(q3), "Q4": part(q4)},
        "keep": part(keep), "discard": part(~keep),
    }
    with open(os.path.join(out, "Q_study.json"), "w") as f:
        json.dump(study, f)
    with open(os.path.join(out, "er.json"), "w") as f:
        json.dump(er, f)

    arts = []
    for name, ct in (("Q_keep.csv", "text/csv"), ("Q_discard.csv", "text/csv"),
                     ("Q_study.json", "application/json"), ("er.json", "application/json")):
        path = os.path.join(out, name)
        arts.append({"name": name, "key": "run=%s/%s" % (run_id, name),
                     "bytes": os.path.getsize(path), "sha256": sha256_file(path),
                     "content_type": ct})
    manifest = {
        "schema": "owls-q4.manifest/1", "run_id": run_id,
        "input": {"bucket": None, "key": os.path.basename(inp), "etag": None,
                  "bytes": in_bytes, "sha256": in_sha},
        "artifacts": arts,
        "producer": {"name": "baseline_pandas", "version": pd.__version__,
                     "host": socket.gethostname()},
        "started_at": started, "finished_at": now(),
    }
    with open(os.path.join(out, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
