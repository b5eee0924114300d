"""Classification metric set on sklearn.metrics.

Each metric is a small function of prepared arrays (labels, probabilities and
the fixed class order), so the bootstrap can recompute one metric on a
resample without re-validating and with the same class order as the full data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from libs.metrics._inputs import (
    as_labels,
    as_proba,
    check_labels_known,
    class_order,
    same_length,
)

LABEL_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "mcc",
)
PROBA_METRICS: tuple[str, ...] = ("roc_auc", "log_loss")
CLASSIFICATION_METRICS: tuple[str, ...] = LABEL_METRICS + PROBA_METRICS

ClassificationFn = Callable[[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray], float]


def _averaged(score: Callable[..., Any], average: str) -> ClassificationFn:
    """precision/recall/f1 with a fixed average; zero_division=0 so a class never predicted
    scores 0 instead of warning and returning an undefined value."""

    def compute(
        y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: np.ndarray
    ) -> float:
        return float(score(y_true, y_pred, labels=classes, average=average, zero_division=0))

    return compute


def _sorted_columns(proba: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classes sorted, with proba's columns permuted to match: sklearn's roc_auc_score and
    log_loss read the columns in sorted-label order, whatever order `labels` had."""
    order = np.argsort(classes, kind="stable")
    return proba[:, order], classes[order]


def _roc_auc(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: np.ndarray
) -> float:
    """Binary: P(classes[1]); multiclass: one-vs-rest macro. NaN where undefined (one class)."""
    assert proba is not None
    if np.unique(y_true).shape[0] < 2:
        return float("nan")
    if classes.shape[0] == 2:
        return float(skm.roc_auc_score(y_true == classes[1], proba[:, 1]))
    ordered, labels = _sorted_columns(proba, classes)
    return float(
        skm.roc_auc_score(y_true, ordered, multi_class="ovr", average="macro", labels=labels)
    )


def _log_loss(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: np.ndarray
) -> float:
    assert proba is not None
    ordered, labels = _sorted_columns(proba, classes)
    return float(skm.log_loss(y_true, ordered, labels=labels))


FUNCTIONS: dict[str, ClassificationFn] = {
    "accuracy": lambda t, p, _, __: float(skm.accuracy_score(t, p)),
    "balanced_accuracy": lambda t, p, _, __: float(skm.balanced_accuracy_score(t, p)),
    "precision_macro": _averaged(skm.precision_score, "macro"),
    "recall_macro": _averaged(skm.recall_score, "macro"),
    "f1_macro": _averaged(skm.f1_score, "macro"),
    "precision_weighted": _averaged(skm.precision_score, "weighted"),
    "recall_weighted": _averaged(skm.recall_score, "weighted"),
    "f1_weighted": _averaged(skm.f1_score, "weighted"),
    "mcc": lambda t, p, _, __: float(skm.matthews_corrcoef(t, p)),
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
}


def prepare(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    labels: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Validate inputs once and fix the class order that y_proba's columns follow."""
    true = as_labels("y_true", y_true)
    pred = as_labels("y_pred", y_pred)
    same_length(true, y_pred=pred)
    classes = class_order(true, pred, labels)
    if labels is not None:
        check_labels_known(true, pred, classes)
    proba = None if y_proba is None else as_proba(y_proba, true.shape[0], classes)
    return true, pred, proba, classes


def metric_names(with_proba: bool) -> tuple[str, ...]:
    """The metrics computed for a call: the label metrics, plus the probability ones."""
    return CLASSIFICATION_METRICS if with_proba else LABEL_METRICS


def evaluate(
    names: Sequence[str],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None,
    classes: np.ndarray,
) -> dict[str, float]:
    """Compute the named metrics on prepared arrays."""
    return {name: FUNCTIONS[name](y_true, y_pred, proba, classes) for name in names}


def classification_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_proba: ArrayLike | None = None,
    labels: Sequence[Any] | None = None,
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro/weighted precision, recall, F1 and MCC;
    with y_proba (rows x classes, columns in `labels` order, or sorted classes)
    also roc_auc and log_loss.

    roc_auc is NaN when y_true holds a single class, where it is undefined; the
    other metrics are still meaningful then, so the set is still returned.
    """
    true, pred, proba, classes = prepare(y_true, y_pred, y_proba, labels)
    return evaluate(metric_names(proba is not None), true, pred, proba, classes)


__all__ = ["CLASSIFICATION_METRICS", "classification_metrics"]
