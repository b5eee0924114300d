"""The standard set of evaluation figures for a task, named for the report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go

from libs.plots._inputs import PlotInputError
from libs.plots.classification import (
    calibration_figure,
    confusion_matrix_figure,
    pr_curve_figure,
    roc_curve_figure,
)
from libs.plots.regression import predicted_vs_actual_figure, residuals_figure


def evaluation_figures(
    task: Literal["classification", "regression"],
    y_true: Any,
    y_pred: Any,
    y_proba: Any = None,
    classes: Sequence[Any] | None = None,
) -> list[tuple[str, go.Figure]]:
    """Confusion matrix (+ ROC, PR, calibration with probabilities), or regression plots.

    Without `classes`, they are the sorted labels of y_true, which is what a
    scikit-learn classifier's `classes_` (and so its probability columns) holds
    when every class occurs in the data.
    """
    if task == "regression":
        return [
            ("Predicted vs actual", predicted_vs_actual_figure(y_true, y_pred)),
            ("Residuals", residuals_figure(y_true, y_pred)),
        ]
    if task != "classification":
        raise PlotInputError(f"task: must be 'classification' or 'regression', got {task!r}")
    figures = [("Confusion matrix", confusion_matrix_figure(y_true, y_pred, labels=classes))]
    if y_proba is None:
        return figures
    labels = list(classes) if classes is not None else list(np.unique(np.asarray(y_true)))
    figures += [
        ("ROC curve", roc_curve_figure(y_true, y_proba, labels)),
        ("Precision-recall curve", pr_curve_figure(y_true, y_proba, labels)),
        ("Calibration", calibration_figure(y_true, y_proba, labels)),
    ]
    return figures


__all__ = ["evaluation_figures"]
