"""Baseline (c) of bench/inference-bench.ts: FastAPI + uvicorn serving the scikit-learn model.

Usage: python bench/inference-fastapi.py <mlflow-model-dir> <port>
POST /predict {"impressions": [[k hashed indices], ...]} -> {"predictions": [p, ...]}.
It receives already-hashed indices: it skips the featurisation that the TypeScript service does.
"""

import sys

import mlflow.sklearn
import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

model = mlflow.sklearn.load_model(sys.argv[1])
app = FastAPI()


class PredictRequest(BaseModel):
    impressions: list[list[int]] = Field(min_length=1, max_length=1000)


class PredictResponse(BaseModel):
    predictions: list[float]


@app.post("/predict", response_model=PredictResponse)
def predict(body: PredictRequest) -> PredictResponse:
    return PredictResponse(predictions=model.predict(np.asarray(body.impressions, dtype=np.int64)).tolist())


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1, log_level="warning", access_log=False)
