"""Evaluate the trained model on the held-out rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.metrics import compute_metrics
from libs.metrics.cost import cost_metrics, serialized_size
from libs.models import ModelAdapter
from tasks.preprocess import Features


@dataclass(frozen=True)
class Evaluation:
    """Test-set metrics and the predictions they were computed from."""

    metrics: dict[str, float]
    y_pred: np.ndarray
    y_proba: np.ndarray | None
    classes: list[Any] | None


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_model(
    model: ModelAdapter, features: Features, split: Split, task_type: str
) -> Evaluation:
    """The task's metric set on the test split, plus what the model costs.

    The cost metrics (`libs.metrics.cost`): training time, prediction latency
    per test row and pickled size; a sweep can take any of them as a response.
    """
    started = time.perf_counter()
    y_pred = model.predict(features.test)
    predict_seconds = time.perf_counter() - started
    y_proba = model.predict_proba(features.test)
    metrics = compute_metrics(
        task_type,  # type: ignore[arg-type]
        split.y_test.to_numpy(),
        y_pred,
        y_proba,
        labels=model.classes,
    )
    metrics |= cost_metrics(
        getattr(model, "train_seconds", None),
        predict_seconds,
        len(y_pred),
        serialized_size(model),
    )
    return Evaluation(metrics=metrics, y_pred=y_pred, y_proba=y_proba, classes=model.classes)


__all__ = ["Evaluation", "evaluate_model"]
