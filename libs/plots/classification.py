"""Classification figures: confusion matrix, ROC, precision-recall, calibration.

Multiclass curves are one-vs-rest, one line per class; a class absent from
y_true (or the only class present) has no curve to draw and is left out
rather than plotted as NaN.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from libs.plots._inputs import PlotInputError, binary_target, one_vs_rest, paired, probabilities
from libs.plots.style import diagonal, styled


def confusion_matrix_figure(
    y_true: Any, y_pred: Any, labels: Sequence[Any] | None = None
) -> go.Figure:
    """Counts of true (rows) against predicted (columns) labels, annotated."""
    truth, pred = paired(y_true, y_pred)
    if labels is None:
        labels = list(np.unique(np.concatenate([truth, pred])))
    labels = list(labels)
    if not labels:
        raise PlotInputError("labels: empty list")
    try:
        matrix = confusion_matrix(truth, pred, labels=labels)
    except ValueError as exc:  # no label of `labels` occurs in y_true
        raise PlotInputError(f"labels: {labels} do not match y_true ({exc})") from exc
    names = [str(label) for label in labels]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            text=matrix,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="true %{y}<br>predicted %{x}<br>count %{z}<extra></extra>",
        )
    )
    figure.update_xaxes(title="predicted", type="category")
    figure.update_yaxes(title="true", type="category", autorange="reversed")
    return styled(figure, "Confusion matrix")


def _one_vs_rest_scores(
    y_true: Any, y_proba: Any, classes: Sequence[Any]
) -> Iterator[tuple[Any, Any, Any]]:
    """(class, binary target, its scores) for each class present in y_true."""
    truth, proba = probabilities(y_true, y_proba, classes)
    for index in one_vs_rest(classes):
        target = binary_target(truth, classes[index])
        if target is not None:
            yield classes[index], target, proba[:, index]


def roc_curve_figure(y_true: Any, y_proba: Any, classes: Sequence[Any]) -> go.Figure:
    """ROC curve (one-vs-rest per class when multiclass), AUC in the legend."""
    figure = go.Figure()
    for label, target, scores in _one_vs_rest_scores(y_true, y_proba, classes):
        fpr, tpr, _ = roc_curve(target, scores)
        auc = roc_auc_score(target, scores)
        figure.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=f"{label} (AUC {auc:.3f})"))
    figure.add_trace(diagonal("chance"))
    figure.update_xaxes(title="false positive rate", range=[0, 1])
    figure.update_yaxes(title="true positive rate", range=[0, 1.02])
    return styled(figure, "ROC curve")


def pr_curve_figure(y_true: Any, y_proba: Any, classes: Sequence[Any]) -> go.Figure:
    """Precision-recall curve per class, average precision in the legend."""
    figure = go.Figure()
    for label, target, scores in _one_vs_rest_scores(y_true, y_proba, classes):
        precision, recall, _ = precision_recall_curve(target, scores)
        ap = average_precision_score(target, scores)
        figure.add_trace(
            go.Scatter(
                x=recall,
                y=precision,
                mode="lines",
                line={"shape": "hv"},
                name=f"{label} (AP {ap:.3f})",
            )
        )
    figure.update_xaxes(title="recall", range=[0, 1])
    figure.update_yaxes(title="precision", range=[0, 1.02])
    return styled(figure, "Precision-recall curve")


def calibration_figure(
    y_true: Any, y_proba: Any, classes: Sequence[Any], n_bins: int = 10
) -> go.Figure:
    """Observed frequency against mean predicted probability, per bin (empty bins omitted)."""
    if n_bins < 2:
        raise PlotInputError(f"n_bins: need at least 2 bins, got {n_bins}")
    figure = go.Figure()
    for label, target, scores in _one_vs_rest_scores(y_true, y_proba, classes):
        observed, predicted = calibration_curve(target, np.clip(scores, 0.0, 1.0), n_bins=n_bins)
        figure.add_trace(go.Scatter(x=predicted, y=observed, mode="lines+markers", name=str(label)))
    figure.add_trace(diagonal("perfectly calibrated"))
    figure.update_xaxes(title="mean predicted probability", range=[0, 1])
    figure.update_yaxes(title="observed frequency", range=[0, 1.02])
    return styled(figure, "Calibration")


__all__ = ["calibration_figure", "confusion_matrix_figure", "pr_curve_figure", "roc_curve_figure"]
