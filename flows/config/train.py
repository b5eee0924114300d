"""`TrainConfig`: the one validated object a training run is built from.

Each section is owned by the library that consumes it; this module only
composes them and names the model to register.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.config import check_experiment_name, load_config
from libs.datasets import DataRules, DataSpec, SplitSpec, TaskType, infer_task, load_bundled
from libs.errors import InputError
from libs.features import FeatureSpec, build_preprocessor, check_custom_steps
from libs.gate import GateSpec
from libs.metrics import METRIC_NAMES, MetricsSpec, load_metrics
from libs.metrics.sets import task_of
from libs.models import ModelSpec, SklearnModelSpec, TensorflowModelSpec, refused_tasks


class TrackingSpec(BaseModel):
    """Where the run is recorded and under which name the model is registered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiment: str = Field("training", min_length=1, description="MLflow experiment name.")
    model_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Registered model name; default '<dataset>-<model>'.",
    )
    register_model: bool = Field(True, description="Register a model version behind the gate.")

    @field_validator("experiment")
    @classmethod
    def _experiment_name(cls, value: str) -> str:
        return check_experiment_name(value)


class TrainConfig(BaseModel):
    """A complete training run: data, split, features, model, gate and tracking."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: DataSpec = Field(default_factory=DataSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    features: FeatureSpec = Field(default_factory=FeatureSpec)
    model: ModelSpec = Field(default_factory=SklearnModelSpec)
    gate: GateSpec = Field(default_factory=GateSpec)
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)

    @property
    def registered_model_name(self) -> str:
        if self.tracking.model_name:
            return self.tracking.model_name
        name = f"{self.data.name}-{self.model.label}".replace("_", "-")
        return re.sub(r"[^A-Za-z0-9.\-]", "-", name)

    def digest(self) -> str:
        """sha256 of the canonical JSON form: the same config always has the same digest."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def flat_params(self) -> dict[str, str]:
        """Every leaf as `section.key` -> string, for MLflow parameters."""
        return dict(_flatten(self.model_dump(mode="json")))


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        if not value and prefix:
            return [(prefix, "{}")]
        items: list[tuple[str, str]] = []
        for key, child in value.items():
            items.extend(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list):
        return [(prefix, json.dumps(value))]
    return [(prefix, "" if value is None else str(value))]


def load_train_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Embedded defaults, then the YAML file, then `--set` overrides, then the cross-field
    checks (`check_train_config`): everything knowable before any data is read."""
    config = load_config(TrainConfig, path, overrides)
    check_train_config(config, str(path) if path else "config")
    return config


def known_task(config: TrainConfig) -> TaskType | None:
    """The task when it is known without reading data (explicit, or a bundled dataset)."""
    if config.data.task != "auto" or config.data.is_bundled:
        return infer_task(config.data, pd.Series(dtype=float))
    return None


def _check_feature_columns(config: TrainConfig, source: str) -> None:
    """Each column in one feature group at most, and never the target."""
    target = config.data.target_column
    features = config.features
    groups = {
        "features.numeric.columns": features.numeric.columns or [],
        "features.categorical.columns": features.categorical.columns or [],
        "features.datetime.columns": features.datetime.columns or [],
        "features.drop": features.drop,
    }
    for index, step in enumerate(features.custom):
        if target in step.columns:
            raise InputError(
                f"{source}: features.custom.{index}.columns: lists '{target}', the target "
                "column (data.target); the target is never a feature"
            )
    owner: dict[str, str] = {}
    for field, columns in groups.items():
        for column in columns:
            if column == target:
                raise InputError(
                    f"{source}: {field}: lists '{column}', the target column (data.target); "
                    "the target is never a feature"
                )
            if column in owner:
                where = "twice" if owner[column] == field else f"in {owner[column]} too"
                raise InputError(f"{source}: {field}: column '{column}' is listed {where}")
            owner[column] = field


def data_rules(config: TrainConfig) -> DataRules:
    """What the data must satisfy for this config: the tasks the model and gate refuse."""
    refused: dict[str, str] = {}
    if isinstance(config.model, SklearnModelSpec):
        refused.update(refused_tasks(config.model, config.split.seed))
    if config.gate.metric is not None:
        try:
            metric_task = task_of(config.gate.metric)
        except InputError as exc:
            raise InputError(f"gate.metric: {exc}") from None
        for task, names in METRIC_NAMES.items():
            if task != metric_task and task not in refused:
                refused[task] = (
                    f"gate.metric: '{config.gate.metric}' is not computed for {task} "
                    f"(choose from {', '.join(names)})"
                )
    return DataRules(refused=refused, test_size=config.split.test_size)


def _check_builder(config: TrainConfig, spec: TensorflowModelSpec, task: str | None) -> None:
    """Your Keras builder, imported and run on one row of the features this config makes
    (a bundled dataset or a local file are read for their width; other sources only import)."""
    from libs.models import import_function

    import_function(str(spec.builder), "model.builder")
    frame = _sample_rows(config)
    if frame is None:
        return
    target = config.data.target_column
    if task is None and target in frame.columns:
        task = infer_task(config.data, frame[target])
    x = frame.drop(columns=[target], errors="ignore")
    try:
        width = build_preprocessor(config.features, x).fit_transform(x).shape[1]
    except Exception:  # the data checks name the problem when the run reads the data
        return
    from libs.models.tensorflow.custom import check_builder

    check_builder(spec, int(width), task or "classification")


def _sample_rows(config: TrainConfig, rows: int = 200) -> pd.DataFrame | None:
    if config.data.is_bundled:
        return load_bundled(config.data.source).head(rows)
    if "://" in config.data.source:
        return None
    from libs.io import read_table

    try:
        return read_table(config.data.source).head(rows)
    except Exception:  # a missing or unreadable file: ingest names it
        return None


def check_train_config(config: TrainConfig, source: str = "config") -> DataRules:
    """Cross-field checks before any data is read; returns the rules the data must meet.

    Model parameters are checked against the estimator's own signature and
    constraints (no fitting), the model and gate metric against the task when
    it is known (explicit or a bundled dataset), feature lists against each
    other and the target. One InputError line naming the field.
    """
    _check_feature_columns(config, source)
    try:
        check_custom_steps(config.features.custom)
        load_metrics(config.metrics.custom)
        rules = data_rules(config)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    task = known_task(config)
    if task is not None and task in rules.refused:
        raise InputError(f"{source}: {rules.refused[task]}")
    if isinstance(config.model, TensorflowModelSpec) and config.model.builder:
        try:
            _check_builder(config, config.model, task)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None
    if len(rules.refused) == len(METRIC_NAMES):
        # No task works: the reason that is not about the model's kind says most.
        reasons = sorted(
            rules.refused.values(), key=lambda r: r.startswith(("model.name:", "model.class:"))
        )
        raise InputError(f"{source}: {reasons[0]}")
    return rules


__all__ = [
    "TrackingSpec",
    "TrainConfig",
    "check_train_config",
    "data_rules",
    "known_task",
    "load_train_config",
]
