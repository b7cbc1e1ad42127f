#!/usr/bin/python3
"""Data generators for the owls-q4 black-box tests and the benchmarks.

Every generator returns the exact bytes of a CSV file, so a test controls
BOMs, line ends and quoting byte for byte. The generators know nothing of the
Q4 algorithm: the expected results are computed by the tests' own reference
(test_split_crosscheck.py), never here. All randomness is seeded, so the same
name gives the same bytes on every run and machine (numpy's PCG64 stream and
Python's repr() of a float are both platform-independent).

Command line (used by tests/bench/bench_*.sh):
    gen_data.py gaussian ROWS COLS OUT [--seed N] [--fmt %.6f]
    gen_data.py case NAME OUT          (one of the named cross-check data sets)
    gen_data.py list                   (names of the data sets)

Needs Debian's /usr/bin/python3 (python3-numpy).
"""

import argparse
import os
import sys

import numpy as np


# --- CSV rendering -----------------------------------------------------------

def quote_field(f):
    """RFC 4180, quoted only where needed (comma, quote, CR or LF)."""
    if any(c in f for c in ',"\r\n'):
        return '"' + f.replace('"', '""') + '"'
    return f


def render(header, rows, eol="\n", bom=False, quote=quote_field):
    """CSV text for header + rows (lists of str); bytes, UTF-8."""
    out = ["\ufeff" if bom else ""]
    for r in [header] + rows:
        out.append(",".join(quote(f) for f in r) + eol)
    return "".join(out).encode("utf-8")


def fmt_repr(v):
    """Shortest text that reads back as exactly v (Python's repr)."""
    return repr(float(v))


def matrix_rows(x, fmt=fmt_repr):
    return [[fmt(v) for v in row] for row in x]


def names(prefix, n):
    return ["%s%d" % (prefix, j + 1) for j in range(n)]


def correlated_gaussian(rng, n, d, decay=0.8):
    """n x d gaussian whose covariance has a clearly decaying spectrum, so that
    the top singular values are well separated (the projectors are then
    well defined and comparable to 1e-8)."""
    g = rng.standard_normal((n, d))
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = decay ** np.arange(d) * 2.0
    return (g * scales) @ q.T


# --- the named data sets of the cross-check ---------------------------------

def ds_2x2():
    return render(["a", "b"], [["1", "2"], ["3", "5"]])


def ds_3x2_tie():
    # z = [[-1,0],[0,-1],[1,1]]/sigma: v1 = (1,1)/sqrt2 and v2 = (1,-1)/sqrt2
    # are exact sign ties, and row 3 has p2 == 0 exactly.
    return render(["x", "y"], [["1", "2"], ["2", "1"], ["3", "3"]])


def ds_gauss_10000x8():
    rng = np.random.default_rng(10008)
    x = correlated_gaussian(rng, 10000, 8) + rng.uniform(-5, 5, 8)
    return render(names("g", 8), matrix_rows(x))


def ds_wide_1000x50():
    rng = np.random.default_rng(100050)
    x = correlated_gaussian(rng, 1000, 50, decay=0.9) * rng.uniform(0.5, 20, 50)
    return render(names("w", 50), matrix_rows(x))


def ds_d_gt_n_50x60():
    rng = np.random.default_rng(5060)
    x = correlated_gaussian(rng, 50, 60, decay=0.85)
    return render(names("c", 60), matrix_rows(x))


def ds_correlated():
    rng = np.random.default_rng(77)
    n = 2000
    g = rng.standard_normal((n, 4))
    c0 = g[:, 0]
    c1 = 2.0 * c0 + 1e-6 * rng.standard_normal(n)  # nearly collinear with c0
    c2 = g[:, 1]
    c4 = 0.6 * g[:, 0] + 0.8 * g[:, 2]
    c5 = g[:, 3]
    rows = []
    for i in range(n):
        s2 = fmt_repr(c2[i])
        # c3 is an exact duplicate of c2: the same text, hence the same double
        rows.append([fmt_repr(c0[i]), fmt_repr(c1[i]), s2, s2, fmt_repr(c4[i]), fmt_repr(c5[i])])
    return render(["base", "twice", "dup_a", "dup_b", "mix", "free"], rows)


def ds_zero_variance():
    # "3.25" sums exactly; "0.1" does not (a naive mean is off by ~1e-17 and a
    # naive sigma is then ~1e-17 instead of 0).
    rng = np.random.default_rng(4)
    x = correlated_gaussian(rng, 10000, 3)
    rows = [[fmt_repr(r[0]), "3.25", fmt_repr(r[1]), "0.1", fmt_repr(r[2])] for r in x]
    return render(["a", "const_exact", "b", "const_tenth", "c"], rows)


def ds_mixed_magnitudes():
    rng = np.random.default_rng(300)
    x = correlated_gaussian(rng, 1000, 5, decay=0.6) + rng.uniform(-2, 2, 5)
    x = x * np.array([1e-300, 1e-150, 1.0, 1e150, 1e300])
    return render(["tiny", "small", "unit", "big", "huge"], matrix_rows(x))


def ds_text_interleaved():
    rng = np.random.default_rng(5)
    n = 400
    x = correlated_gaussian(rng, n, 4)
    words = ["alpha", "beta gamma", "delta", "", "  spaced  ", "x1"]
    rows = []
    for i in range(n):
        rows.append([
            "r%04d" % i,                                  # text
            fmt_repr(x[i, 0]),
            words[i % len(words)],                        # text with empties
            fmt_repr(x[i, 1]),
            "n/a" if i == 17 else fmt_repr(x[i, 2] * 3),  # numbers + one word: text
            "",                                           # all empty: ignored
            fmt_repr(x[i, 3]),
            "yes" if i % 3 else "no",
        ])
    return render(["id", "x", "name", "y", "almost", "blank", "z", "flag"], rows)


def ds_quoted():
    rng = np.random.default_rng(6)
    n = 300
    x = correlated_gaussian(rng, n, 3)
    texts = ['a,b', 'say "hi"', 'two\nlines', 'plain', '', '"', ',', 'cr\r\nlf', ' lead']
    rows = []
    for i in range(n):
        rows.append([
            texts[i % len(texts)],
            fmt_repr(x[i, 0]),
            "%.4f" % x[i, 1],
            texts[(i * 7) % len(texts)] + "|" + str(i),
            fmt_repr(x[i, 2]),
        ])

    def q(f):
        # quote every field that looks numeric, and every other third text
        # field, whether or not it needs it: the reader must unquote, the
        # writer must quote only where needed
        if f and (f[0].isdigit() or f[0] in "-+.") or sum(map(ord, f)) % 3 == 0:
            return '"' + f.replace('"', '""') + '"'
        return quote_field(f)

    return render(["note", "p", "q", "tag", "r"], rows, quote=q)


def ds_bom_crlf():
    rng = np.random.default_rng(7)
    n = 250
    x = correlated_gaussian(rng, n, 3)
    rows = [[fmt_repr(r[0]), "t%d" % i if i % 5 else "line\r\nbreak", fmt_repr(r[1]),
             fmt_repr(r[2])] for i, r in enumerate(x)]
    return render(["first", "label", "second", "third"], rows, eol="\r\n", bom=True)


GRAMMAR_FORMS = ["1.", ".5", "+1e3", "-0", " 7 ", "1E-5", "-.25e+2", "  3", "4  ",
                 "+.75", "0.", "-1.E2", "00012", "6e0", "-0.0e-0"]


def ds_number_grammar():
    rng = np.random.default_rng(8)
    n = 200
    x = correlated_gaussian(rng, n, 3) * 10
    rows = []
    for i in range(n):
        r = [fmt_repr(v) for v in x[i]]
        if i < len(GRAMMAR_FORMS) * 3:
            r[i % 3] = GRAMMAR_FORMS[i // 3]
        rows.append(r)
    return render(["u", "v", "w"], rows)


def ds_integers():
    rng = np.random.default_rng(9)
    x = rng.integers(-50, 51, size=(300, 4))
    x[:, 1] += x[:, 0] // 2
    x[:, 3] -= x[:, 2]
    return render(["i1", "i2", "i3", "i4"], [[str(int(v)) for v in r] for r in x])


CASES = {
    "2x2": ds_2x2,
    "3x2-exact-tie": ds_3x2_tie,
    "gauss-10000x8": ds_gauss_10000x8,
    "wide-1000x50": ds_wide_1000x50,
    "d-gt-n-50x60": ds_d_gt_n_50x60,
    "correlated-and-duplicate": ds_correlated,
    "zero-variance": ds_zero_variance,
    "mixed-magnitudes": ds_mixed_magnitudes,
    "text-interleaved": ds_text_interleaved,
    "quoted-fields": ds_quoted,
    "bom-crlf": ds_bom_crlf,
    "number-grammar": ds_number_grammar,
    "integers": ds_integers,
}


# --- the benchmark input -------------------------------------------------------

def write_gaussian(path, rows, cols, seed=1, fmt="%.6f", chunk=100000):
    """rows x cols standard normal values printed with fmt, header c1..cN.
    Written through a temporary name and renamed, so an interrupted run never
    leaves a truncated file behind for the cache."""
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w", newline="\n") as f:
        f.write(",".join(names("c", cols)) + "\n")
        line = ",".join([fmt] * cols) + "\n"
        done = 0
        while done < rows:
            k = min(chunk, rows - done)
            block = rng.standard_normal((k, cols))
            f.write((line * k) % tuple(block.ravel()))
            done += k
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gaussian")
    g.add_argument("rows", type=int)
    g.add_argument("cols", type=int)
    g.add_argument("out")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--fmt", default="%.6f")
    c = sub.add_parser("case")
    c.add_argument("name", choices=sorted(CASES))
    c.add_argument("out")
    sub.add_parser("list")
    a = ap.parse_args(argv)
    if a.cmd == "gaussian":
        write_gaussian(a.out, a.rows, a.cols, a.seed, a.fmt)
    elif a.cmd == "case":
        with open(a.out, "wb") as f:
            f.write(CASES[a.name]())
    else:
        print("\n".join(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
