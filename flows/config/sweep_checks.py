"""A sweep config's checks against its base and its data, before any point is planned.

Each fails in one InputError line naming the field, before any run starts.
"""

from __future__ import annotations

import difflib
from typing import Any

from flows.config.train import TrainConfig, check_train_config
from libs.datasets import infer_task
from libs.doe import design_size
from libs.errors import InputError
from libs.metrics import METRIC_NAMES
from libs.metrics.sets import task_of
from libs.models import build_estimator

# `config` below is a flows.config.sweep_schema.SweepConfig (flows.config.sweep, which
# plans it, imports this module).


def check_model(config: TrainConfig, task: str) -> None:
    """Check estimator parameters before any run (scikit-learn; Keras specs are typed)."""
    if config.model.framework == "sklearn":
        build_estimator(config.model, task, config.split.seed)


def check_metric(name: str, field: str, task: str | None, source: str) -> None:
    """Refuse a metric the task does not compute, with the closest name for a typo."""
    if task is not None and name not in METRIC_NAMES[task]:
        close = difflib.get_close_matches(name, METRIC_NAMES[task], n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(
            f"{source}: {field}: '{name}' is not computed for {task}{hint} "
            f"(choose from {', '.join(METRIC_NAMES[task])})"
        )


# --- Bad-input checks before any point is generated or any data is trained on -----------

# Each point is one training run and one MLflow run. A thousand already take hours on one
# machine and crowd the tracking store; a design beyond that is a typo (levels: 1000) or a
# space that wants a screening design first, and generating it alone could take minutes.
MAX_SWEEP_POINTS = 1000


def check_sweep_before_data(config: Any, base: TrainConfig, source: str) -> None:
    """The design's size and the objective against the model, before points or data exist."""
    size = design_size(config.space, config.design)
    if size > MAX_SWEEP_POINTS:
        raise InputError(
            f"{source}: design: {config.design.kind} over these factors has {size} points, "
            f"more than the limit of {MAX_SWEEP_POINTS} (each point is a training run and an "
            "MLflow run); use fewer levels or factors, or a screening design first"
        )
    refused = check_train_config(base, f"{source}: base").refused
    metric_task = task_of(config.objective.metric)
    if metric_task in refused:
        raise InputError(
            f"{source}: objective.metric: '{config.objective.metric}' is a {metric_task} "
            f"metric, but {refused[metric_task]}"
        )


def check_sweep_data_task(config: Any, base: TrainConfig, source: str) -> str | None:
    """For a local file with `task: auto`, the task its target implies, checked against the
    objective: otherwise every point would train and fail (or score the wrong metric)."""
    spec = base.data
    if spec.is_bundled or spec.task != "auto" or "://" in spec.source:
        return None
    from libs.io import read_table

    frame = read_table(spec.source)
    if spec.target_column not in frame.columns:
        return None  # the points report the missing target, naming the file
    task = infer_task(spec, frame[spec.target_column])
    metric_task = task_of(config.objective.metric)
    if task != metric_task:
        raise InputError(
            f"{source}: objective.metric: '{config.objective.metric}' is a {metric_task} "
            f"metric, but the target '{spec.target_column}' of {spec.source} makes this a "
            f"{task} task (choose from {', '.join(METRIC_NAMES[task])})"
        )
    return task


__all__ = [
    "MAX_SWEEP_POINTS",
    "check_metric",
    "check_model",
    "check_sweep_before_data",
    "check_sweep_data_task",
]
