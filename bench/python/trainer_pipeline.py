"""The pipeline a Python user would write for the trainer's job, timed step by step.

    python trainer_pipeline.py --tool sklearn|vw --database-url URL --schema S \
        --start ISO --cut ISO --end ISO --attribution-seconds N

1. psql \\copy of the labelled window (same label rule as the trainer: a click within the
   attribution window after the impression) to a CSV file;
2. pandas.read_csv;
3. hashed features (the default spec's fields, buckets and crosses) and a fit: scikit-learn
   SGDClassifier(log_loss) on FeatureHasher output, or Vowpal Wabbit (logistic, FTRL-free
   adaptive SGD) through its Python package;
4. holdout logloss on the last slice (served_at >= cut).
Prints one JSON line: seconds per step, total wall, peak RSS of Python and of psql, holdout logloss.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import tempfile
import time

import numpy as np
import pandas as pd

COLUMNS = ["slot_id", "placement", "ad_id", "campaign_id", "advertiser_id", "device_type", "os", "country"]
CONTEXT = ["hour_of_day", "user_age_days", "page_views", "site_category"]
PAGE_VIEW_BOUNDARIES = [1, 2, 3, 5, 8, 13, 21, 50, 100]
CROSSES = [
    ("ad_id", "device_type"),
    ("placement", "hour_of_day"),
    ("site_category", "country"),
    ("ad_id", "placement"),
    ("ad_id", "site_category"),
    ("campaign_id", "country"),
    ("advertiser_id", "site_category"),
    ("device_type", "os"),
]


def export_csv(args, path):
    cols = ", ".join(f"i.{c}" for c in COLUMNS)
    ctx = ", ".join(f"i.context->>'{c}' AS {c}" for c in CONTEXT)
    query = (
        f"SELECT i.served_at >= '{args.cut}'::timestamptz AS holdout, {cols}, {ctx}, "
        f"EXISTS (SELECT 1 FROM {args.schema}.clicks c WHERE c.impression_id = i.id "
        f"AND c.clicked_at >= i.served_at AND c.clicked_at <= i.served_at + {args.attribution_seconds} * interval '1 second') AS label "
        f"FROM {args.schema}.impressions i WHERE i.served_at >= '{args.start}' AND i.served_at < '{args.end}' "
        f"ORDER BY i.served_at, i.id"
    )
    subprocess.run(
        ["psql", args.database_url, "-q", "-c", f"\\copy ({query}) TO '{path}' WITH (FORMAT csv, HEADER true)"],
        check=True,
    )


def featurize(df):
    """One string token per field and per cross, as a user of FeatureHasher would write it."""
    cols = {}
    for c in COLUMNS + ["hour_of_day", "site_category"]:
        cols[c] = c + "=" + df[c].astype(str)
    age = pd.to_numeric(df["user_age_days"], errors="coerce")
    cols["user_age_days"] = "user_age_days=" + np.floor(np.log1p(age.clip(lower=0)) * 2).astype(str)
    views = pd.to_numeric(df["page_views"], errors="coerce")
    cols["page_views"] = "page_views=" + pd.Series(np.digitize(views.fillna(-1), PAGE_VIEW_BOUNDARIES)).astype(str)
    for a, b in CROSSES:
        cols[f"{a}x{b}"] = f"{a}x{b}=" + df[a].astype(str) + "|" + df[b].astype(str)
    return pd.DataFrame(cols).to_numpy().tolist()


def logloss(p, y):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_sklearn(train_tokens, y_train, holdout_tokens):
    from sklearn.feature_extraction import FeatureHasher
    from sklearn.linear_model import SGDClassifier

    hasher = FeatureHasher(n_features=2**20, input_type="string", alternate_sign=False)
    x_train = hasher.transform(train_tokens)
    x_holdout = hasher.transform(holdout_tokens)
    model = SGDClassifier(loss="log_loss", alpha=1e-6, max_iter=5, tol=None, random_state=0)
    model.fit(x_train, y_train)
    return model.predict_proba(x_holdout)[:, 1]


def fit_vw(train_tokens, y_train, holdout_tokens):
    from vowpalwabbit import Workspace

    vw = Workspace("--loss_function logistic --link logistic -b 20 --quiet")
    for tokens, y in zip(train_tokens, y_train):
        vw.learn(f"{1 if y else -1} |f " + " ".join(t.replace(" ", "_").replace(":", "_") for t in tokens))
    preds = [vw.predict("|f " + " ".join(t.replace(" ", "_").replace(":", "_") for t in tokens)) for tokens in holdout_tokens]
    vw.finish()
    return np.asarray(preds, dtype=float)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=["sklearn", "vw"], required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--schema", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--cut", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--attribution-seconds", type=int, required=True)
    args = ap.parse_args()

    steps = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "window.csv")
        t = time.perf_counter()
        export_csv(args, path)
        steps["export"] = time.perf_counter() - t
        t = time.perf_counter()
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        steps["read_csv"] = time.perf_counter() - t
    t = time.perf_counter()
    holdout = (df["holdout"] == "t").to_numpy()
    y = (df["label"] == "t").to_numpy().astype(np.int8)
    tokens = featurize(df)
    train_tokens = [tk for tk, h in zip(tokens, holdout) if not h]
    holdout_tokens = [tk for tk, h in zip(tokens, holdout) if h]
    steps["features"] = time.perf_counter() - t
    t = time.perf_counter()
    fit = fit_sklearn if args.tool == "sklearn" else fit_vw
    p = fit(train_tokens, y[~holdout], holdout_tokens)
    steps["fit_and_score"] = time.perf_counter() - t
    result = {
        "tool": args.tool,
        "rows": int(len(df)),
        "holdoutRows": int(holdout.sum()),
        "steps": {k: round(v, 2) for k, v in steps.items()},
        "wallSeconds": round(time.perf_counter() - t0, 2),
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "psqlPeakRssMb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "holdoutLogloss": logloss(p, y[holdout]) if holdout.any() else math.nan,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
