"""Input checks shared by the figure builders: one-line errors instead of shape errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from libs.errors import InputError


class PlotInputError(InputError):
    """Arrays handed to a figure do not fit together (lengths, shapes, classes)."""


def as_1d(name: str, values: Any) -> np.ndarray:
    """A one-dimensional array, or a PlotInputError naming the argument."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise PlotInputError(f"{name}: expected one value per row, got shape {array.shape}")
    if array.size == 0:
        raise PlotInputError(f"{name}: no rows")
    return array


def paired(y_true: Any, y_pred: Any, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    """y_true and a same-length second array."""
    truth, other = as_1d("y_true", y_true), as_1d(pred_name, y_pred)
    if len(truth) != len(other):
        raise PlotInputError(f"{pred_name}: has {len(other)} rows but y_true has {len(truth)}")
    return truth, other


def numeric_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """y_true and y_pred as floats (regression plots)."""
    truth, pred = paired(y_true, y_pred)
    try:
        return truth.astype(float), pred.astype(float)
    except (TypeError, ValueError) as exc:
        raise PlotInputError(f"y_true/y_pred: regression values must be numbers ({exc})") from exc


def probabilities(
    y_true: Any, y_proba: Any, classes: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """y_true and a (rows, classes) probability matrix.

    A binary model may give only the positive-class column (shape (n,)); it is
    widened to two columns so every caller sees one layout.
    """
    truth = as_1d("y_true", y_true)
    classes = list(classes)
    if len(classes) < 2:
        raise PlotInputError(f"classes: need at least two classes, got {classes}")
    proba = np.asarray(y_proba, dtype=float)
    if proba.ndim == 1 and len(classes) == 2:
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise PlotInputError(
            f"y_proba: shape {proba.shape} does not match {len(classes)} classes {classes}"
        )
    if proba.shape[0] != len(truth):
        raise PlotInputError(f"y_proba: has {proba.shape[0]} rows but y_true has {len(truth)}")
    return truth, proba


def one_vs_rest(classes: Sequence[Any]) -> list[int]:
    """Which class columns get a curve: the positive class only when binary."""
    return [1] if len(classes) == 2 else list(range(len(classes)))


def binary_target(truth: np.ndarray, label: Any) -> np.ndarray | None:
    """1 where y_true is `label`; None when a curve cannot be drawn (one value only)."""
    target = (truth == label).astype(int)
    if target.min() == target.max():
        return None
    return target


__all__ = [
    "PlotInputError",
    "as_1d",
    "binary_target",
    "numeric_pair",
    "one_vs_rest",
    "paired",
    "probabilities",
]
