"""Fits scikit-learn LogisticRegression on hashed features written by bench/learn-vs-sklearn.ts (and the
learn accuracy test) and prints holdout metrics per C as JSON.

Input directory: meta.json {"width", "size", "cs", "solver", "max_iter"}, train_indices.u32, train_labels.u8,
holdout_indices.u32, holdout_labels.u8 (row-major, little-endian). Each index is a binary feature (x = 1;
repeated indices in a row add up, as in the FTRL learner and the scorer).
"""

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score


def load(d: Path, part: str, width: int, columns: np.ndarray):
    """Sparse design matrix over the hash buckets seen in training (`columns`, sorted). A bucket never seen in
    training has weight 0 in any L2-regularised fit, so dropping it changes nothing but the run time."""
    idx = np.fromfile(d / f"{part}_indices.u32", dtype="<u4")
    y = np.fromfile(d / f"{part}_labels.u8", dtype=np.uint8)
    rows = y.shape[0]
    pos = np.searchsorted(columns, idx)
    pos_clipped = np.minimum(pos, columns.shape[0] - 1)
    known = columns[pos_clipped] == idx
    data = known.astype(np.float64)
    indptr = np.arange(0, rows * width + 1, width, dtype=np.int64)
    x = csr_matrix((data, pos_clipped.astype(np.int64), indptr), shape=(rows, columns.shape[0]))
    x.sum_duplicates()
    x.eliminate_zeros()
    return x, y


def main() -> None:
    d = Path(sys.argv[1])
    meta = json.loads((d / "meta.json").read_text())
    width = meta["width"]
    columns = np.unique(np.fromfile(d / "train_indices.u32", dtype="<u4"))
    xt, yt = load(d, "train", width, columns)
    xh, yh = load(d, "holdout", width, columns)
    results = []
    for c in meta["cs"]:
        t0 = time.perf_counter()
        model = LogisticRegression(C=c, solver=meta.get("solver", "lbfgs"), max_iter=meta.get("max_iter", 200), tol=meta.get("tol", 1e-4))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(xt, yt)
        fit_s = time.perf_counter() - t0
        p = model.predict_proba(xh)[:, 1]
        results.append(
            {
                "C": c,
                "holdout_logloss": float(log_loss(yh, p)),
                "holdout_auc": float(roc_auc_score(yh, p)),
                "fit_seconds": fit_s,
                "train_rows_per_second": xt.shape[0] / fit_s,
            }
        )
    best = min(results, key=lambda r: r["holdout_logloss"])
    print(json.dumps({"results": results, "best": best}))


if __name__ == "__main__":
    main()
