"""Datasets: the data spec, bundled scikit-learn datasets, task inference, splitting."""

from libs.datasets.checks import MIN_ROWS, DataRules, check_data
from libs.datasets.core import (
    Split,
    check_target,
    class_names,
    infer_task,
    load_bundled,
    split_digest,
    split_frame,
    subsample,
)
from libs.datasets.spec import BUNDLED, TABLE_SUFFIXES, DataSpec, SplitSpec, TaskType

__all__ = [
    "BUNDLED",
    "MIN_ROWS",
    "TABLE_SUFFIXES",
    "DataRules",
    "DataSpec",
    "Split",
    "SplitSpec",
    "TaskType",
    "check_data",
    "check_target",
    "class_names",
    "infer_task",
    "load_bundled",
    "split_digest",
    "split_frame",
    "subsample",
]
