"""A trained network plus its fitted feature pipeline as one raw-rows model on disk.

MLflow's pyfunc loads it through this module (`loader_module`), calling
`_load_pyfunc(data_path)`; the files are written by `save_artifacts`. Keras
saves to and loads from files only, so this module reads and writes the one
folder it is given (the exception to "only libs/io touches storage"), and
nothing here imports MLflow.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from libs.models.tensorflow.adapter import TensorflowModel, decode, forward, probabilities
from libs.models.tensorflow.runtime import load_tensorflow

NETWORK_FILE = "network.keras"
PREPROCESSOR_FILE = "preprocessor.pkl"
META_FILE = "meta.json"


def _plain(value: Any) -> Any:
    """A class label as a JSON value (NumPy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def save_artifacts(model: TensorflowModel, preprocessor: Any, directory: str | Path) -> Path:
    """Write the network (.keras), the fitted preprocessor (pickle) and the labels."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # Keras 3.15 saving TensorFlow variables trips NumPy 2's `copy=` deprecation; theirs.
        warnings.filterwarnings(
            "ignore", "__array__ implementation doesn't accept a copy", DeprecationWarning
        )
        model.network.save(folder / NETWORK_FILE)
    (folder / PREPROCESSOR_FILE).write_bytes(pickle.dumps(preprocessor))
    classes = None if model.classes is None else [_plain(c) for c in model.classes]
    meta = {"task": model.task, "classes": classes, "framework": model.framework}
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return folder


class RawRowsModel:
    """Raw rows in, labels (or values) out: the feature pipeline, then the network."""

    def __init__(
        self, preprocessor: Any, network: Any, task: str, classes: list[Any] | None
    ) -> None:
        self.preprocessor = preprocessor
        self.network = network
        self.task = task
        self.classes = classes

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> np.ndarray:
        features = self.preprocessor.transform(model_input)
        return decode(forward(self.network, features), self.task, self.classes)

    def predict_proba(self, model_input: Any) -> np.ndarray | None:
        """Class probabilities in the order of `classes` (None for regression)."""
        if self.task != "classification":
            return None
        return probabilities(forward(self.network, self.preprocessor.transform(model_input)))


def load_artifacts(directory: str | Path) -> RawRowsModel:
    """Read what `save_artifacts` wrote (the preprocessor is a pickle we wrote ourselves)."""
    _, keras = load_tensorflow()
    folder = Path(directory)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    network = keras.saving.load_model(folder / NETWORK_FILE, compile=False)
    preprocessor = pickle.loads((folder / PREPROCESSOR_FILE).read_bytes())
    return RawRowsModel(preprocessor, network, meta["task"], meta["classes"])


def _load_pyfunc(data_path: str) -> RawRowsModel:
    """MLflow pyfunc's loader-module entry point."""
    return load_artifacts(data_path)


__all__ = ["RawRowsModel", "load_artifacts", "save_artifacts"]
