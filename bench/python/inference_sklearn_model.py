"""Model code for the scikit-learn baselines of bench/inference-bench.ts (shipped with the MLflow
model through code_paths, so `mlflow models serve` and the FastAPI app can load it)."""

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression


def to_csr(indices, size):
    """Rows of k hashed indices -> one-hot CSR (a repeated index counts twice, as in libs/model's scorer)."""
    x = np.asarray(indices, dtype=np.int64)
    return sp.csr_matrix(
        (np.ones(x.size, dtype=np.float64), x.ravel(), np.arange(0, x.size + 1, x.shape[1])),
        shape=(x.shape[0], size),
    )


class ProbabilityLogisticRegression(LogisticRegression):
    """predict() returns P(click): what a CTR service serves (MLflow's pyfunc calls predict)."""

    def predict(self, X):
        return self.predict_proba(X)[:, 1]


TRUSTED_TYPES = ["inference_sklearn_model.to_csr", "inference_sklearn_model.ProbabilityLogisticRegression"]
