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

from pydantic import BaseModel, ConfigDict, Field, field_validator

from libs.config import check_experiment_name, load_config
from libs.datasets import DataSpec, SplitSpec
from libs.features import FeatureSpec
from libs.gate import GateSpec
from libs.models import ModelSpec, SklearnModelSpec


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
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)

    @property
    def registered_model_name(self) -> str:
        if self.tracking.model_name:
            return self.tracking.model_name
        name = f"{self.data.name}-{self.model.name}".replace("_", "-")
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
    """Embedded defaults, then the YAML file, then `--set` overrides."""
    return load_config(TrainConfig, path, overrides)


__all__ = ["TrackingSpec", "TrainConfig", "load_train_config"]
