"""Framework adapters behind one interface, and the `create_model` factory."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from libs.errors import InputError
from libs.models.sklearn import SklearnModel, build_estimator, sklearn_estimator_names
from libs.models.spec import ModelSpec, SklearnModelName, SklearnModelSpec


class ModelAdapter(Protocol):
    """What a training task needs from any framework."""

    framework: str
    task: str

    def fit(self, features: Any, y: np.ndarray) -> ModelAdapter: ...
    def predict(self, features: Any) -> np.ndarray: ...
    def predict_proba(self, features: Any) -> np.ndarray | None: ...
    @property
    def classes(self) -> list[Any] | None: ...
    def as_pipeline(self, preprocessor: Any) -> Any: ...


def create_model(spec: ModelSpec, task: str, seed: int = 0) -> ModelAdapter:
    """Build the adapter for `spec.framework`; the seed reaches every random estimator."""
    if spec.framework == "sklearn":
        return SklearnModel(spec, task, seed)
    raise InputError(f"model.framework: unknown framework '{spec.framework}'")


__all__ = [
    "ModelAdapter",
    "ModelSpec",
    "SklearnModel",
    "SklearnModelName",
    "SklearnModelSpec",
    "build_estimator",
    "create_model",
    "sklearn_estimator_names",
]
