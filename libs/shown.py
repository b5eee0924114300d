"""Numbers and metrics as a person reads them: the digits that mean something, a few at a time.

The terminal summary names the gate's metric and three key metrics of the
task; the full set stays in the MLflow run and the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

# The metrics a summary shows after the primary one, by task, in order of interest.
KEY_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1_macro", "roc_auc", "log_loss", "balanced_accuracy"),
    "regression": ("r2", "rmse", "mae", "mape"),
}


def number(value: float | int) -> str:
    """Four significant digits, a whole number without decimals (`1224`, not `1224.0000`)."""
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def task_of_metrics(metrics: Mapping[str, float]) -> str:
    """The task a metric set comes from: regression when it has r2, else classification."""
    return "regression" if "r2" in metrics and "accuracy" not in metrics else "classification"


def key_metrics(
    metrics: Mapping[str, float], primary: str, count: int = 3
) -> list[tuple[str, float]]:
    """Up to `count` key metrics of the task, the primary one left out (it is shown apart)."""
    names = KEY_METRICS[task_of_metrics(metrics)]
    return [(name, metrics[name]) for name in names if name in metrics and name != primary][:count]


def metric_list(pairs: list[tuple[str, float]]) -> str:
    """`f1_macro=0.9665, roc_auc=0.998`."""
    return ", ".join(f"{name}={number(value)}" for name, value in pairs)


__all__ = ["KEY_METRICS", "key_metrics", "metric_list", "number", "task_of_metrics"]
