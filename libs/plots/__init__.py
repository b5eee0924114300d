"""Plotly figures for model evaluation and one self-contained HTML report.

Figures take arrays and frames and return `plotly.graph_objects.Figure`;
`render_report` returns the page as a string. Nothing here writes files.
"""

from libs.plots._inputs import PlotInputError
from libs.plots.classification import (
    calibration_figure,
    confusion_matrix_figure,
    pr_curve_figure,
    roc_curve_figure,
)
from libs.plots.doe import (
    contour_figure,
    half_normal_figure,
    interaction_figure,
    main_effects_figure,
    pareto_figure,
    table_figure,
)
from libs.plots.drift import drift_figures, drift_histogram_figure, drift_statistic_figure
from libs.plots.evaluation import evaluation_figures
from libs.plots.history import history_figure
from libs.plots.importance import (
    bounded_permutation_importance,
    feature_importance_figure,
    permutation_importance_table,
)
from libs.plots.regression import predicted_vs_actual_figure, residuals_figure
from libs.plots.report import KeyValues, ReportHeader, Table, figure_div_id, render_report

__all__ = [
    "KeyValues",
    "PlotInputError",
    "ReportHeader",
    "Table",
    "bounded_permutation_importance",
    "calibration_figure",
    "confusion_matrix_figure",
    "contour_figure",
    "drift_figures",
    "drift_histogram_figure",
    "drift_statistic_figure",
    "evaluation_figures",
    "feature_importance_figure",
    "figure_div_id",
    "half_normal_figure",
    "history_figure",
    "interaction_figure",
    "main_effects_figure",
    "pareto_figure",
    "permutation_importance_table",
    "pr_curve_figure",
    "predicted_vs_actual_figure",
    "render_report",
    "residuals_figure",
    "roc_curve_figure",
    "table_figure",
]
