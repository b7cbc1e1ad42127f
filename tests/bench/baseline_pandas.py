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

import pandas as pd

from q4_sklearn import four_quadrants


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv):
    if len(argv) not in (2, 3):
        print("usage:", __doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 64
    inp, out = argv[0], argv[1]
    run_id = argv[2] if len(argv) == 3 else "baseline"
    started = now()
    os.makedirs(out, exist_ok=True)

    df = pd.read_csv(inp)
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    keep, fit, er = four_quadrants(df, numeric)

    df[keep].to_csv(os.path.join(out, "Q_keep.csv"), index=False)
    df[~keep].to_csv(os.path.join(out, "Q_discard.csv"), index=False)

    in_sha, in_bytes = sha256_file(inp), os.path.getsize(inp)
    study = {
        "schema": "owls-q4.study/1", "run_id": run_id,
        "input": {"key": os.path.basename(inp), "format": "csv", "bytes": in_bytes,
                  "sha256": in_sha},
        **fit,
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
