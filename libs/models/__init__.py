"""Framework adapters behind one interface, and the `create_model` factory.

The TensorFlow adapter is imported only when a TensorFlow spec is built, and
TensorFlow itself only when that adapter trains or serves.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from libs.errors import InputError
from libs.models.by_class import estimator_task
from libs.models.imports import (
    ShippedCode,
    code_to_ship,
    import_class,
    import_function,
    import_object,
    modules_of,
)
from libs.models.sklearn import (
    SklearnModel,
    build_estimator,
    own_importances,
    refused_tasks,
    sklearn_estimator_names,
)
from libs.models.spec import (
    EarlyStoppingSpec,
    EpochHook,
    ModelSpec,
    SklearnModelName,
    SklearnModelSpec,
    TensorflowModelSpec,
)


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


def create_model(
    spec: ModelSpec, task: str, seed: int = 0, *, on_epoch_end: EpochHook | None = None
) -> ModelAdapter:
    """Build the adapter for `spec.framework`; the seed reaches every random estimator.

    `on_epoch_end(epoch, logs)` is called after each epoch of frameworks that
    train in epochs (TensorFlow); scikit-learn estimators have none to report.
    """
    if spec.framework == "sklearn":
        return SklearnModel(spec, task, seed)
    if spec.framework == "tensorflow":
        from libs.models.tensorflow import TensorflowModel

        return TensorflowModel(spec, task, seed, on_epoch_end=on_epoch_end)
    raise InputError(f"model.framework: unknown framework '{spec.framework}'")


__all__ = [
    "EarlyStoppingSpec",
    "EpochHook",
    "ModelAdapter",
    "ModelSpec",
    "ShippedCode",
    "SklearnModel",
    "SklearnModelName",
    "SklearnModelSpec",
    "TensorflowModelSpec",
    "build_estimator",
    "code_to_ship",
    "create_model",
    "estimator_task",
    "import_class",
    "import_function",
    "import_object",
    "modules_of",
    "own_importances",
    "refused_tasks",
    "sklearn_estimator_names",
]
