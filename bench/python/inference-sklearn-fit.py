"""Fits scikit-learn LogisticRegression on hashed feature indices exported by bench/inference-bench.ts.

Reads <dir>/train-indices.u32 (rows x k uint32, little-endian), <dir>/train-labels.u8 and
<dir>/train-meta.json ({"rows", "k", "size"}). Writes <dir>/coef.f32 (size float32 weights),
<dir>/fit.json ({"intercept", "fit_seconds"}) and an MLflow sklearn model at <dir>/mlflow-model
whose predict() takes k index columns and returns click probabilities.
"""

import json
import os
import sys
import time

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inference_sklearn_model import TRUSTED_TYPES, ProbabilityLogisticRegression, to_csr  # noqa: E402

out_dir = sys.argv[1]
with open(f"{out_dir}/train-meta.json") as f:
    meta = json.load(f)
ROWS, K, SIZE = meta["rows"], meta["k"], meta["size"]

indices = np.fromfile(f"{out_dir}/train-indices.u32", dtype="<u4").reshape(ROWS, K)
labels = np.fromfile(f"{out_dir}/train-labels.u8", dtype=np.uint8)
started = time.perf_counter()
lr = ProbabilityLogisticRegression(solver="liblinear", C=0.5, max_iter=200)
lr.fit(to_csr(indices, SIZE), labels)
fit_seconds = time.perf_counter() - started

lr.coef_[0].astype("<f4").tofile(f"{out_dir}/coef.f32")
with open(f"{out_dir}/fit.json", "w") as f:
    json.dump({"intercept": float(lr.intercept_[0]), "fit_seconds": fit_seconds}, f)

import mlflow.sklearn  # noqa: E402 (slow import, only needed here)

pipeline = Pipeline([("csr", FunctionTransformer(to_csr, kw_args={"size": SIZE})), ("lr", lr)])
mlflow.sklearn.save_model(
    pipeline,
    f"{out_dir}/mlflow-model",
    code_paths=[os.path.join(os.path.dirname(os.path.abspath(__file__)), "inference_sklearn_model.py")],
    skops_trusted_types=TRUSTED_TYPES,
)
print(json.dumps({"fit_seconds": round(fit_seconds, 2), "intercept": float(lr.intercept_[0])}))
