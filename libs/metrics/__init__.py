"""Metric sets on sklearn.metrics and bootstrap intervals; all values are plain floats.

Plain floats (not numpy scalars) so that the values go to MLflow, JSON and
pydantic models unchanged.
"""

from libs.metrics.bootstrap import bootstrap_ci, bootstrap_intervals, interval_metrics
from libs.metrics.classification import classification_metrics
from libs.metrics.custom import MetricsSpec, custom_metrics, load_metrics
from libs.metrics.regression import regression_metrics
from libs.metrics.sets import METRIC_NAMES, Task, compute_metrics, greater_is_better

__all__ = [
    "METRIC_NAMES",
    "MetricsSpec",
    "Task",
    "bootstrap_ci",
    "bootstrap_intervals",
    "classification_metrics",
    "compute_metrics",
    "custom_metrics",
    "greater_is_better",
    "interval_metrics",
    "load_metrics",
    "regression_metrics",
]
