"""The Q4 split of the original Python design (scikit-learn), shared by the
benchmarks' two yardsticks: baseline_pandas.py (`owls-q4 split`'s) and
baseline_consumer.py (owls-q4d's). Not a reference: the numerical reference
is tests/integration/test_split_crosscheck.py.

Needs numpy, pandas and scikit-learn (Debian's python3-numpy, -pandas, -sklearn).
"""
import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler


def sign_fix(v):
    """SPEC section 3: the entry of largest magnitude (lowest index among
    those within 1e-12 of it) is positive."""
    a = np.abs(v)
    j = int(np.nonzero(a >= a.max() - 1e-12)[0][0])
    return v if v[j] > 0 else -v


def four_quadrants(df, numeric):
    """StandardScaler + PCA(2, LAPACK "full") on df's numeric columns, then the
    quadrants and energies. Returns (keep mask, the fit fields of Q_study.json
    from "rows" to "keep_quadrants", er.json)."""
    x = df[numeric].to_numpy(dtype=np.float64)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    pca = PCA(n_components=2, svd_solver="full").fit(z)
    v = np.array([sign_fix(pca.components_[0]), sign_fix(pca.components_[1])])
    p = z @ v.T
    q = {
        "Q1": (p[:, 0] >= 0) & (p[:, 1] >= 0),
        "Q2": (p[:, 0] < 0) & (p[:, 1] >= 0),
        "Q3": (p[:, 0] < 0) & (p[:, 1] < 0),
        "Q4": (p[:, 0] >= 0) & (p[:, 1] < 0),
    }
    keep = q["Q1"] | q["Q4"]
    e = np.einsum("ij,ij->i", z, z)
    total = float(e.sum())
    s = pca.singular_values_

    def part(mask):
        en = float(e[mask].sum())
        return {"rows": int(mask.sum()), "energy": en, "fraction": en / total if total else 0.0}

    fit = {
        "rows": int(len(df)), "columns": [str(c) for c in df.columns], "numeric_columns": numeric,
        "ignored_columns": [str(c) for c in df.columns if c not in numeric],
        "scaler": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "projectors": v.tolist(), "singular_values": s[:2].tolist(),
        "explained_variance_ratio": (s[:2] ** 2 / float(np.sum(z * z))).tolist(),
        "quadrant_rows": {k: int(m.sum()) for k, m in q.items()},
        "keep_quadrants": ["Q1", "Q4"],
    }
    er = {"schema": "owls-q4.energy/1", "total_energy": total,
          "quadrants": {k: part(m) for k, m in q.items()}, "keep": part(keep), "discard": part(~keep)}
    return keep, fit, er
