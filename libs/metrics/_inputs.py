"""Input checks shared by the metric sets: lengths, emptiness, probabilities, class order.

sklearn's own errors name no argument; these name the argument and the problem
in one line, so a wiring mistake reads as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from libs.errors import InputError


def as_labels(name: str, values: ArrayLike) -> np.ndarray:
    """A 1-D array of class labels or targets."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{name} is empty; metrics need at least one row")
    return array


def same_length(y_true: np.ndarray, **others: np.ndarray) -> None:
    """Every array has as many rows as y_true."""
    for name, values in others.items():
        if values.shape[0] != y_true.shape[0]:
            raise InputError(f"{name} has {values.shape[0]} rows but y_true has {y_true.shape[0]}")


def as_finite_floats(name: str, values: ArrayLike) -> np.ndarray:
    """A 1-D float array with no NaN or infinity (regression targets and predictions)."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric: {exc}") from exc
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"{name} is empty; metrics need at least one row")
    if not np.isfinite(array).all():
        raise InputError(f"{name} contains NaN or infinite values")
    return array


def class_order(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[Any] | None) -> np.ndarray:
    """The classes in the order of y_proba's columns.

    Without `labels`, the sorted classes seen in y_true and y_pred: the order
    scikit-learn's `classes_` uses, so predict_proba columns line up.
    """
    if labels is not None:
        order = np.asarray(list(labels))
        if order.ndim != 1 or order.shape[0] == 0:
            raise InputError("labels must be a non-empty list of classes")
        if len(set(order.tolist())) != order.shape[0]:
            raise InputError(f"labels has duplicates: {order.tolist()}")
        return order
    return np.unique(np.concatenate([y_true, y_pred]))


def as_proba(y_proba: ArrayLike, n_rows: int, classes: np.ndarray) -> np.ndarray:
    """An (n_rows, n_classes) probability matrix; a 1-D array is P(positive) of a binary task."""
    try:
        proba = np.asarray(y_proba, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"y_proba must be numeric: {exc}") from exc
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2:
        raise InputError(f"y_proba must be (rows x classes), got shape {proba.shape}")
    if proba.shape[0] != n_rows:
        raise InputError(f"y_proba has {proba.shape[0]} rows but y_true has {n_rows}")
    if proba.shape[1] != classes.shape[0]:
        raise InputError(
            f"y_proba has {proba.shape[1]} columns but there are {classes.shape[0]} classes "
            f"{classes.tolist()}; pass labels in the order of y_proba's columns"
        )
    if not np.isfinite(proba).all():
        raise InputError("y_proba contains NaN or infinite values")
    return proba


def check_labels_known(y_true: np.ndarray, y_pred: np.ndarray, classes: np.ndarray) -> None:
    """With explicit labels, every class in y_true and y_pred must be one of them."""
    unknown = sorted(
        set(np.concatenate([y_true, y_pred]).tolist()) - set(classes.tolist()), key=str
    )
    if unknown:
        raise InputError(f"y_true/y_pred hold classes not in labels: {unknown[:5]}")
