"""Evaluate the trained model on the held-out rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.metrics import compute_metrics
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
    """The task's metric set (classification or regression) on the test split."""
    y_pred = model.predict(features.test)
    y_proba = model.predict_proba(features.test)
    metrics = compute_metrics(
        task_type,  # type: ignore[arg-type]
        split.y_test.to_numpy(),
        y_pred,
        y_proba,
        labels=model.classes,
    )
    return Evaluation(metrics=metrics, y_pred=y_pred, y_proba=y_proba, classes=model.classes)


__all__ = ["Evaluation", "evaluate_model"]
