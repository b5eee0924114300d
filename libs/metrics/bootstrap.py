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


def _weights(n_rows: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each row occurs in each resample, shape (n_boot, n_rows)."""
    idx = _resamples(n_rows, n_boot, seed)
    flat = (idx + np.arange(n_boot)[:, None] * n_rows).ravel()
    return np.bincount(flat, minlength=n_boot * n_rows).reshape(n_boot, n_rows).astype(float)


def _per_resample(weights: np.ndarray, codes: np.ndarray, size: int, values: Any = None) -> Any:
    """Sum of `values` (default 1) per (resample, code): shape (n_boot, size)."""
    n_boot = weights.shape[0]
    flat = (codes[None, :] + np.arange(n_boot)[:, None] * size).ravel()
    w = weights if values is None else weights * np.asarray(values, dtype=float)[None, :]
    return np.bincount(flat, weights=w.ravel(), minlength=n_boot * size).reshape(n_boot, size)


def _ratio(num: np.ndarray, den: np.ndarray, undefined: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), undefined)


def _weighted_auc(weights: np.ndarray, score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """ROC AUC per resample (Mann-Whitney with ties as halves); NaN where one class is absent."""
    levels, codes = np.unique(score, return_inverse=True)
    pos = _per_resample(weights, codes, levels.shape[0], positive)
    neg = _per_resample(weights, codes, levels.shape[0], ~positive)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    return _ratio(num, den, float("nan"))


def _classification_values(
    true: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """Every classification metric on every resample at once, from weighted confusion matrices.

    The same definitions as scikit-learn's (zero_division=0, balanced accuracy over
    the classes present, MCC 0 where undefined): a test pins them equal.
    """
    k = classes.shape[0]
    index = {label: i for i, label in enumerate(classes.tolist())}
    t = np.array([index[v] for v in true.tolist()])
    p = np.array([index[v] for v in pred.tolist()])
    cm = _per_resample(w, t * k + p, k * k).reshape(-1, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support = cm.sum(axis=2)
    predicted = cm.sum(axis=1)
    n = w.sum(axis=1)
    recall = _ratio(tp, support, 0.0)
    precision = _ratio(tp, predicted, 0.0)
    f1 = _ratio(2 * tp, support + predicted, 0.0)
    share = support / n[:, None]
    with np.errstate(invalid="ignore"):
        balanced = np.nanmean(_ratio(tp, support, float("nan")), axis=1)
        cov_tp = tp.sum(axis=1) * n - (support * predicted).sum(axis=1)
        cov_pp = n**2 - (predicted**2).sum(axis=1)
        cov_tt = n**2 - (support**2).sum(axis=1)
    den = cov_tt * cov_pp
    mcc = np.where(den > 0, cov_tp / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    values = {
        "accuracy": tp.sum(axis=1) / n,
        "balanced_accuracy": balanced,
        "precision_macro": precision.mean(axis=1),
        "recall_macro": recall.mean(axis=1),
        "f1_macro": f1.mean(axis=1),
        "precision_weighted": (precision * share).sum(axis=1),
        "recall_weighted": (recall * share).sum(axis=1),
        "f1_weighted": (f1 * share).sum(axis=1),
        "mcc": mcc,
    }
    if proba is not None:
        if k == 2:
            auc = _weighted_auc(w, proba[:, 1], t == 1)
        else:
            per_class = np.stack([_weighted_auc(w, proba[:, c], t == c) for c in range(k)])
            auc = per_class.mean(axis=0)  # NaN where a class is absent, as sklearn fails there
        values["roc_auc"] = auc
        eps = np.finfo(float).eps
        loss = -np.log(np.clip(proba[np.arange(t.shape[0]), t], eps, 1 - eps))
        values["log_loss"] = (w @ loss) / n
    return values


def _regression_values(true: np.ndarray, pred: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """rmse, mae, r2 and mape on every resample at once (scikit-learn's definitions)."""
    n = w.sum(axis=1)
    err = pred - true
    centred = true - true.mean()  # shift first: no cancellation in the sum of squares
    mean = (w @ centred) / n
    total = w @ centred**2 - n * mean**2
    residual = w @ err**2
    eps = np.finfo(float).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0), 0.0)
    r2 = np.where((total <= 0) & (residual == 0), 1.0, r2)
    return {
        "rmse": np.sqrt(residual / n),
        "mae": (w @ np.abs(err)) / n,
        "r2": r2,
        "mape": (w @ (np.abs(err) / np.maximum(np.abs(true), eps))) / n,
    }


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
    """Intervals for `names` (None: the task's whole set) over shared resamples.

    Vectorised over the resamples (a weight per row and resample), so the full
    set over 200 resamples costs milliseconds rather than seconds.
    """
    _check_params(n_boot, alpha)
    values: dict[str, np.ndarray]
    if task == "classification":
        true, pred, proba, classes = classification.prepare(y_true, y_pred, y_proba, labels)
        chosen = names or classification.metric_names(proba is not None)
        needs_proba = [n for n in chosen if n in classification.PROBA_METRICS]
        if proba is None and needs_proba:
            raise InputError(f"metric {needs_proba[0]!r} needs y_proba")
        w = _weights(true.shape[0], n_boot, seed)
        values = _classification_values(true, pred, proba, classes, w)
    else:
        if y_proba is not None or labels is not None:
            raise InputError("y_proba and labels apply to classification only, not regression")
        rtrue, rpred = regression.prepare(y_true, y_pred)
        chosen = names or regression.REGRESSION_METRICS
        values = _regression_values(rtrue, rpred, _weights(rtrue.shape[0], n_boot, seed))
    return {name: _interval(list(values[name]), alpha) for name in chosen}


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


def interval_metrics(intervals: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Intervals as flat metrics (`accuracy_ci_low`, `accuracy_ci_high`); undefined left out."""
    flat: dict[str, float] = {}
    for name, (low, high) in intervals.items():
        if np.isfinite(low) and np.isfinite(high):
            flat[f"{name}_ci_low"], flat[f"{name}_ci_high"] = float(low), float(high)
    return flat


__all__ = ["bootstrap_ci", "bootstrap_intervals", "interval_metrics"]
