"""Percentile bootstrap intervals for metrics.

Seeded with a numpy Generator so that an interval is reproducible from the run's
seed. Every metric of one call sees the same resamples, and the class order is
fixed on the full data, so a resample that misses a class still reads y_proba's
columns correctly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import libs.metrics.classification as classification
import libs.metrics.regression as regression
from libs.errors import InputError
from libs.metrics._inputs import as_labels, same_length
from libs.metrics.sets import Task, check_task, task_of


def _check_params(n_boot: int, alpha: float) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise InputError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < float(alpha) < 1.0:
        raise InputError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")


def _resamples(n_rows: int, n_boot: int, seed: int) -> np.ndarray:
    """Row indices of every resample, drawn at once so the draw depends only on the seed."""
    return np.random.default_rng(seed).integers(0, n_rows, size=(n_boot, n_rows))


def _interval(values: list[float], alpha: float) -> tuple[float, float]:
    """Percentile interval over the defined (finite) values; NaN when there are none."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def _safe(metric: Callable[..., float], *args: Any) -> float:
    """One resample's value; NaN where the metric is undefined on it (e.g. one class)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(metric(*args))
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return float("nan")


def _bootstrap_set(
    task: Task,
    names: Sequence[str] | None,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None,
    labels: Sequence[Any] | None,
    n_boot: int,
    alpha: float,
    seed: int,
) -> dict[str, tuple[float, float]]:
    """Intervals for `names` (None: the task's whole set) over shared resamples."""
    _check_params(n_boot, alpha)
    values: dict[str, list[float]]
    if task == "classification":
        true, pred, proba, classes = classification.prepare(y_true, y_pred, y_proba, labels)
        chosen = names or classification.metric_names(proba is not None)
        needs_proba = [n for n in chosen if n in classification.PROBA_METRICS]
        if proba is None and needs_proba:
            raise InputError(f"metric {needs_proba[0]!r} needs y_proba")
        values = {name: [] for name in chosen}
        for idx in _resamples(true.shape[0], n_boot, seed):
            sample_proba = None if proba is None else proba[idx]
            sample = (true[idx], pred[idx], sample_proba, classes)
            for name in chosen:
                values[name].append(_safe(classification.FUNCTIONS[name], *sample))
    else:
        if y_proba is not None or labels is not None:
            raise InputError("y_proba and labels apply to classification only, not regression")
        rtrue, rpred = regression.prepare(y_true, y_pred)
        chosen = names or regression.REGRESSION_METRICS
        values = {name: [] for name in chosen}
        for idx in _resamples(rtrue.shape[0], n_boot, seed):
            for name in chosen:
                values[name].append(_safe(regression.FUNCTIONS[name], rtrue[idx], rpred[idx]))
    return {name: _interval(vals, alpha) for name, vals in values.items()}


def _bootstrap_callable(
    metric: Callable[..., float],
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None,
    n_boot: int,
    alpha: float,
    seed: int,
) -> tuple[float, float]:
    """Interval for a user metric called as metric(y_true, y_pred[, y_proba]) per resample."""
    _check_params(n_boot, alpha)
    true = as_labels("y_true", y_true)
    pred = np.asarray(y_pred)
    same_length(true, y_pred=pred)
    proba = None if y_proba is None else np.asarray(y_proba)
    if proba is not None:
        same_length(true, y_proba=proba)
    values = []
    for idx in _resamples(true.shape[0], n_boot, seed):
        args = (true[idx], pred[idx]) if proba is None else (true[idx], pred[idx], proba[idx])
        values.append(_safe(metric, *args))
    return _interval(values, alpha)


def bootstrap_ci(
    metric: str | Callable[..., float],
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    *,
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    task: Task | None = None,
    labels: Sequence[Any] | None = None,
) -> tuple[float, float]:
    """Percentile (1 - alpha) interval of one metric over `n_boot` row resamples.

    `metric` is a metric name (its task is inferred unless given) or a callable
    taking (y_true, y_pred), or (y_true, y_pred, y_proba) when y_proba is given.
    Resamples where the metric is undefined (NaN, or a ValueError such as a
    single class) are skipped; if every one is, the metric is undefined on this
    data and an InputError says so.
    """
    if callable(metric):
        if labels is not None:
            raise InputError("labels apply to named metrics only, not to a callable metric")
        low, high = _bootstrap_callable(metric, y_true, y_pred, y_proba, n_boot, alpha, seed)
        label = getattr(metric, "__name__", "metric")
    else:
        inferred = task_of(metric)
        if task is not None and check_task(task) != inferred:
            raise InputError(f"metric {metric!r} is a {inferred} metric, not {task}")
        intervals = _bootstrap_set(
            inferred, (metric,), y_true, y_pred, y_proba, labels, n_boot, alpha, seed
        )
        low, high = intervals[metric]
        label = metric
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InputError(f"metric {label!r} is undefined on every bootstrap resample")
    return low, high


def bootstrap_intervals(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    *,
    labels: Sequence[Any] | None = None,
) -> dict[str, tuple[float, float]]:
    """Intervals for the task's whole metric set (the keys of `compute_metrics`).

    A metric undefined on every resample gets (nan, nan) rather than failing
    the set, matching the NaN that `compute_metrics` reports for it.
    """
    return _bootstrap_set(
        check_task(task), None, y_true, y_pred, y_proba, labels, n_boot, alpha, seed
    )


__all__ = ["bootstrap_ci", "bootstrap_intervals"]
