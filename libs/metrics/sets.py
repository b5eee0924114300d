"""Metric sets by task, and which direction is better for each metric.

The registration gate and DOE objectives compare metrics by name; they ask
`greater_is_better` instead of keeping their own lists.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

from numpy.typing import ArrayLike

from libs.errors import InputError
from libs.metrics.classification import CLASSIFICATION_METRICS, classification_metrics
from libs.metrics.regression import REGRESSION_METRICS, regression_metrics

Task = Literal["classification", "regression"]

# roc_auc and log_loss appear only when probabilities are given.
METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
}
LOWER_IS_BETTER: frozenset[str] = frozenset({"rmse", "mae", "mape", "log_loss"})


def known_metrics() -> list[str]:
    """Every metric name this library computes, sorted."""
    return sorted({name for names in METRIC_NAMES.values() for name in names})


def check_task(task: str) -> Task:
    """Refuse an unknown task with the list of known ones."""
    if task not in METRIC_NAMES:
        raise InputError(f"unknown task {task!r}; expected one of {sorted(METRIC_NAMES)}")
    return task  # type: ignore[return-value]


def task_of(name: str) -> Task:
    """The task a metric name belongs to (the names do not overlap across tasks)."""
    for task, names in METRIC_NAMES.items():
        if name in names:
            return task  # type: ignore[return-value]
    raise InputError(f"unknown metric {name!r}; known metrics: {', '.join(known_metrics())}")


def check_metric_fits(name: str, task: str, field: str) -> None:
    """Refuse a metric the task does not compute, saying which task it fits and what fits this one.

    `gate.metric: 'r2' is a regression metric and does not fit this classification
    task (classification metrics: accuracy, ...)`. An unknown name gets the closest
    known one.
    """
    if task in METRIC_NAMES and name in METRIC_NAMES[task]:
        return
    fits = [t for t, names in METRIC_NAMES.items() if name in names]
    choices = ", ".join(METRIC_NAMES.get(task, ()))  # type: ignore[call-overload]
    if not fits:
        close = difflib.get_close_matches(name, known_metrics(), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"{field}: unknown metric '{name}'{hint} ({task} metrics: {choices})")
    raise InputError(
        f"{field}: '{name}' is a {' and '.join(fits)} metric and does not fit this {task} "
        f"task ({task} metrics: {choices})"
    )


def greater_is_better(name: str) -> bool:
    """True when a larger value of metric `name` is better (errors and losses are not)."""
    task_of(name)
    return name not in LOWER_IS_BETTER


def compute_metrics(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    labels: Sequence[Any] | None = None,
) -> dict[str, float]:
    """The metric set of `task`; probabilities and labels apply to classification only."""
    if check_task(task) == "classification":
        return classification_metrics(y_true, y_pred, y_proba=y_proba, labels=labels)
    if y_proba is not None or labels is not None:
        raise InputError("y_proba and labels apply to classification only, not regression")
    return regression_metrics(y_true, y_pred)


__all__ = ["METRIC_NAMES", "Task", "check_metric_fits", "compute_metrics", "greater_is_better"]
