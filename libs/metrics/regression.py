"""Regression metric set on sklearn.metrics."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from libs.metrics._inputs import as_finite_floats, same_length

REGRESSION_METRICS: tuple[str, ...] = ("rmse", "mae", "r2", "mape")

FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": lambda t, p: float(skm.root_mean_squared_error(t, p)),
    "mae": lambda t, p: float(skm.mean_absolute_error(t, p)),
    "r2": lambda t, p: float(skm.r2_score(t, p)),
    "mape": lambda t, p: float(skm.mean_absolute_percentage_error(t, p)),
}


def prepare(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate once: finite 1-D floats of equal length."""
    true = as_finite_floats("y_true", y_true)
    pred = as_finite_floats("y_pred", y_pred)
    same_length(true, y_pred=pred)
    return true, pred


def evaluate(names: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Compute the named metrics on prepared arrays."""
    return {name: FUNCTIONS[name](y_true, y_pred) for name in names}


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """RMSE, MAE, R^2 and MAPE.

    MAPE follows scikit-learn: a fraction (0.1 is 10 %), and huge where y_true is
    near zero; R^2 is NaN on a single row, where it is undefined.
    """
    true, pred = prepare(y_true, y_pred)
    return evaluate(REGRESSION_METRICS, true, pred)


__all__ = ["REGRESSION_METRICS", "regression_metrics"]
