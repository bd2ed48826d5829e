"""Reads predictions (float64 LE) and labels (uint8) written by the learn metrics test and prints
scikit-learn's roc_auc_score and log_loss as JSON, for the 1e-9 agreement check."""

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

d = Path(sys.argv[1])
out = []
for case in json.loads((d / "cases.json").read_text()):
    p = np.fromfile(d / f"{case}.f64", dtype="<f8")
    y = np.fromfile(d / f"{case}.u8", dtype=np.uint8)
    out.append({"case": case, "auc": float(roc_auc_score(y, p)), "logloss": float(log_loss(y, p, labels=[0, 1]))})
print(json.dumps(out))
