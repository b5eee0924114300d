"""Evaluate the trained model on the held-out rows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.datasets import Split
from libs.metrics import bootstrap_intervals, compute_metrics, custom_metrics
from libs.metrics.cost import cost_metrics, median_seconds, serialized_size
from libs.models import ModelAdapter
from tasks.preprocess import Features


@dataclass(frozen=True)
class Evaluation:
    """Test-set metrics, their bootstrap intervals and the predictions behind them."""

    metrics: dict[str, float]
    y_pred: np.ndarray
    y_proba: np.ndarray | None
    classes: list[Any] | None
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_model(
    model: ModelAdapter,
    features: Features,
    split: Split,
    task_type: str,
    seed: int = 0,
    custom: tuple[str, ...] | list[str] = (),
) -> Evaluation:
    """The task's metric set (classification or regression) on the test split.

    With 95% percentile intervals over 200 seeded resamples of the test rows,
    so a reader (and the gate, when asked) can tell a real gain from noise; plus
    what the model costs (`libs.metrics.cost`): training time, prediction
    latency per test row (the median of repeated predictions) and pickled
    size, which a sweep can take as responses; plus your own `custom` metric
    functions (import paths), under their names.
    """
    y_true = split.y_test.to_numpy()
    started = time.perf_counter()
    y_pred = model.predict(features.test)
    # the median of repeated predictions: a busy machine moves it far less than one
    predict_seconds = median_seconds(
        lambda: model.predict(features.test), time.perf_counter() - started
    )
    y_proba = model.predict_proba(features.test)
    labels = model.classes if task_type == "classification" else None
    metrics = compute_metrics(task_type, y_true, y_pred, y_proba, labels=model.classes)  # type: ignore[arg-type]
    intervals = bootstrap_intervals(
        task_type,  # type: ignore[arg-type]
        y_true,
        y_pred,
        y_proba if task_type == "classification" else None,
        seed=seed,
        labels=labels,
    )
    metrics |= custom_metrics(list(custom), y_true, y_pred)
    metrics |= cost_metrics(
        getattr(model, "train_seconds", None),
        predict_seconds,
        len(y_pred),
        serialized_size(model),
    )
    return Evaluation(
        metrics=metrics,
        y_pred=y_pred,
        y_proba=y_proba,
        classes=model.classes,
        intervals=intervals,
    )


__all__ = ["Evaluation", "evaluate_model"]
