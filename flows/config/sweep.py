"""Planning a sweep: the training config of every design point, validated before any run.

`plan_sweep` turns a `SweepConfig` (`flows.config.sweep_schema`) into the
list of training configs to run, validating every one of them, so a bad
factor path or a value no estimator accepts fails before any run starts.

No Prefect and no MLflow here: the CLI validates with this module alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flows.config.sweep_checks import (
    check_metric,
    check_model,
    check_sweep_before_data,
    check_sweep_data_task,
)
from flows.config.sweep_schema import SweepConfig
from flows.config.train import TrainConfig, known_task
from libs.config import format_validation_error, load_config, set_dotted
from libs.crossval import cv_name
from libs.doe import Design, generate_design
from libs.errors import InputError
from libs.metrics.cost import COST_METRICS
from libs.studies import explicit_design


@dataclass(frozen=True)
class PointJob:
    """One design point: where it sits in the design and the training config it runs."""

    index: int
    point: dict[str, Any]
    coded: dict[str, float]
    config: TrainConfig
    config_digest: str
    replicate: int = 0


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs, computed and validated before any run starts."""

    config: SweepConfig
    base: TrainConfig
    design: Design
    jobs: list[PointJob]
    digest: str
    task: str | None
    folds: int = 0

    def response(self, metric: str) -> str:
        """The logged name of the value a point is ranked and analysed on: the
        cross-validated mean (`cv.r2`) when the points cross-validate, else the metric."""
        if self.folds and metric not in COST_METRICS:
            return cv_name(metric)
        return metric

    @property
    def run_name(self) -> str:
        return self.config.name or f"{self.base.registered_model_name}-{self.design.kind}"

    @property
    def concurrency(self) -> int:
        """Points at once: the config's, else the cores (TensorFlow points one at a time)."""
        if self.config.concurrency:
            return self.config.concurrency
        if self.base.model.framework == "tensorflow":
            return 1
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)

    @property
    def worker_processes(self) -> int:
        """Worker processes for the points: 0 means they train in the sweep's threads."""
        local = self.config.mode == "local" and self.base.model.framework != "tensorflow"
        if local and self.config.workers == "processes" and self.concurrency > 1:
            return self.concurrency
        return 0


def sweep_digest(base: TrainConfig, config: SweepConfig) -> str:
    """sha256 of what decides the points' results: base config, factors and design.

    The objective, concurrency, workers and mode are left out, so re-running a
    sweep with another objective or more workers reuses the points already trained.
    """
    canonical = json.dumps(
        {
            "base": base.model_dump(mode="json"),
            "factors": [f.model_dump(mode="json") for f in config.factors],
            "design": config.design.model_dump(mode="json"),
            "cv_folds": sweep_folds(config, base),
            "replicate_split": config.replicate_split,
            "runs": config.runs.model_dump(mode="json") if config.runs else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate_train(data: dict[str, Any], where: str) -> TrainConfig:
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, where, TrainConfig)) from None


def _replicate_seeds(
    base: TrainConfig, point: Mapping[str, Any], replicate: int, split: bool
) -> dict[str, int]:
    """The seeds a replicated run changes: `split.train_seed` (base seed + replicate number),
    and `split.seed` too when the sweep asks for split replicates.

    A seeded training run repeated with its seed gives the same metrics, so
    replicates that kept the seed would report zero pure error. Every run of a
    study that is ranked shares one split: a replicate re-seeds the training,
    not the split, unless `replicate_split` says otherwise.
    """
    if replicate == 0:
        return {}
    seeds = {}
    if "split.train_seed" not in point:
        seeds["split.train_seed"] = base.split.model_seed + replicate
    if split and "split.seed" not in point:
        seeds["split.seed"] = base.split.seed + replicate
    return seeds


def sweep_folds(config: SweepConfig, base: TrainConfig) -> int:
    """The points' cross-validation folds (0: off): the sweep's, the base's, else 5."""
    if config.cv_folds is not None:
        return config.cv_folds
    if base.split.cv_folds is not None:
        return base.split.cv_folds
    return 0 if base.model.framework == "tensorflow" else DEFAULT_SWEEP_FOLDS


# A study's response is a cross-validated score (one split's score is mostly split noise).
DEFAULT_SWEEP_FOLDS = 5


def _point_config(
    base: dict[str, Any],
    point: Mapping[str, Any],
    index: int,
    source: str,
    task: str | None,
    seeds: Mapping[str, int] | None = None,
) -> TrainConfig:
    """Apply one point factor by factor, so an error names the factor that caused it."""
    data = copy.deepcopy(base)
    for path, seed in (seeds or {}).items():
        data = set_dotted(data, path, seed)
    for name, value in point.items():
        where = f"{source}: factor '{name}' (point {index}, value {value!r})"
        try:
            data = set_dotted(data, name, value)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        _validate_train(data, where)
    data = set_dotted(data, "tracking.register_model", False)
    config = _validate_train(data, f"{source}: point {index}")
    if task is not None:
        try:
            check_model(config, task)
        except InputError as exc:
            named = [n for n in point if n in str(exc)] or list(point)
            value = ", ".join(f"{n}={point[n]!r}" for n in named)
            raise InputError(
                f"{source}: factor '{named[0]}' (point {index}, {value}): {exc}"
            ) from None
    return config


# -----------------------------------------------------------------------------------------


def plan_sweep(config: SweepConfig, source: str = "sweep") -> SweepPlan:
    """The design and one validated training config per point; raises InputError.

    Checks, in order: the base config, the design (categorical factors in a
    response-surface design, too few factors), each factor path and value, the
    estimator parameters, and that the objective and gate metrics are computed
    for the task.
    """
    base_data = config.base_data()
    base = _validate_train(base_data, f"{source}: base")
    check_sweep_before_data(config, base, source)
    task = known_task(base) or check_sweep_data_task(config, base, source)
    check_metric(config.objective.metric, "objective.metric", task, source)
    for response in config.responses:
        if response.metric not in COST_METRICS:
            check_metric(response.metric, "responses.metric", task, source)
    if task is not None:
        check_metric(base.gate.metric_for(task), "gate.metric", task, f"{source}: base")
        try:
            check_model(base, task)
        except InputError as exc:
            raise InputError(f"{source}: base: {exc}") from None
    concurrency = config.concurrency or 1
    if base.model.framework == "tensorflow" and concurrency > 1 and config.mode == "local":
        raise InputError(
            f"{source}: concurrency: TensorFlow points run one at a time in one process "
            "(Keras seeding is process-wide); set concurrency: 1 or mode: deployment"
        )
    design = (
        explicit_design(config.space, config.runs.kind, config.runs.points, config.runs.block)
        if config.runs
        else generate_design(config.space, config.design)
    )
    full = set_dotted(base.model_dump(mode="json"), "split.cv_folds", sweep_folds(config, base))
    jobs = []
    for index, point in enumerate(design.points):
        replicate = design.replicate[index] if design.replicate else 0
        seeds = (
            _replicate_seeds(base, point, replicate, config.replicate_split)
            if config.design.replicate_seeds
            else {}
        )
        train = _point_config(full, point, index, source, task, seeds)
        coded = {k: float(v) for k, v in design.coded.iloc[index].items()}
        jobs.append(PointJob(index, dict(point), coded, train, train.digest(), replicate))
    folds = jobs[0].config.split.folds if jobs else 0
    return SweepPlan(config, base, design, jobs, sweep_digest(base, config), task, folds)


def load_sweep_config(path: str | Path | None, overrides: Sequence[str] = ()) -> SweepConfig:
    """YAML plus `--set` overrides, validated once (the plan is checked separately)."""
    if path is None:
        raise InputError("--config: a sweep needs a config file (see configs/sweeps/)")
    return load_config(SweepConfig, path, overrides)


__all__ = [
    "PointJob",
    "SweepConfig",
    "SweepPlan",
    "load_sweep_config",
    "plan_sweep",
    "sweep_digest",
    "sweep_folds",
]
