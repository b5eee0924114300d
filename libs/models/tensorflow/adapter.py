"""The TensorFlow/Keras adapter: the same interface as the scikit-learn one."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.pipeline import Pipeline

from libs.models.spec import EpochHook, TensorflowModelSpec
from libs.models.tensorflow.builders import build_network, compile_network, output_head
from libs.models.tensorflow.runtime import device_name, load_tensorflow, seed_everything

PREDICT_BATCH = 8192


def as_matrix(features: Any) -> np.ndarray:
    """Preprocessed features as a dense float32 matrix (what Keras layers take)."""
    if hasattr(features, "toarray"):
        features = features.toarray()
    return np.asarray(features, dtype=np.float32)


def forward(network: Any, features: Any) -> np.ndarray:
    """The network's outputs, in batches, without `Model.predict`'s per-call set-up.

    Permutation importance calls this hundreds of times on small frames, where
    `predict`'s data-pipeline set-up costs 30x the arithmetic (measured: 126 ms
    a call against 4 ms for the compiled `predict_on_batch` on 400 rows).
    """
    x = as_matrix(features)
    if len(x) == 0:
        return np.zeros((0, network.outputs[0].shape[-1]), dtype=np.float32)
    parts = [
        np.asarray(network.predict_on_batch(x[i : i + PREDICT_BATCH]))
        for i in range(0, len(x), PREDICT_BATCH)
    ]
    return np.concatenate(parts)


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """Class probabilities, one column per class (a sigmoid's one unit becomes two).

    In float64 and renormalised: float32 softmax rows miss 1.0 by more than
    scikit-learn's metrics tolerate.
    """
    values = outputs.astype(np.float64)
    if values.shape[1] == 1:
        positive = values[:, 0]
        return np.column_stack([1.0 - positive, positive])
    return values / values.sum(axis=1, keepdims=True)


def decode(outputs: np.ndarray, task: str, classes: list[Any] | None) -> np.ndarray:
    """Labels (classification) or values (regression) from the network's outputs."""
    if task == "regression" or classes is None:
        return outputs[:, 0].astype(np.float64)
    return np.asarray(classes)[probabilities(outputs).argmax(axis=1)]


def epoch_callback(hook: EpochHook) -> Any:
    """A Keras callback that hands each epoch's logs, as plain floats, to `hook`."""
    _, keras = load_tensorflow()

    class EpochLogs(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            values = {}
            for key, value in (logs or {}).items():
                try:
                    values[key] = float(value)
                except (TypeError, ValueError):
                    continue
            hook(epoch, values)

    return EpochLogs()


class TensorflowModel:
    """A Keras network trained on preprocessed features, behind `ModelAdapter`.

    Class labels are encoded as 0..n-1 for training and decoded on predict,
    so labels may be strings or any integers. After `fit`, `history` holds
    the per-epoch series and `device` where training ran.
    """

    framework = "tensorflow"

    def __init__(
        self,
        spec: TensorflowModelSpec,
        task: str,
        seed: int = 0,
        on_epoch_end: EpochHook | None = None,
    ) -> None:
        self.spec = spec
        self.task = task
        self.seed = seed
        self.on_epoch_end = on_epoch_end
        self.network: Any = None
        self.history: dict[str, list[float]] = {}
        self.device: str | None = None
        self._classes: list[Any] | None = None

    def build(self, n_features: int, n_classes: int | None = None) -> Any:
        """The compiled network for `n_features` inputs (seeded; no training)."""
        seed_everything(self.seed)
        head = output_head(self.task, n_classes)
        network = build_network(self.spec, n_features, head, seed=self.seed)
        return compile_network(network, self.spec, self.task, head)

    def fit(self, features: Any, y: np.ndarray) -> TensorflowModel:
        _, keras = load_tensorflow()
        x = as_matrix(features)
        if self.task == "classification":
            classes, target = np.unique(np.asarray(y), return_inverse=True)
            self._classes = classes.tolist()
            target = target.astype(np.int64)
        else:
            target = np.asarray(y, dtype=np.float32)
        self.network = self.build(x.shape[1], len(self._classes) if self._classes else None)
        callbacks: list[Any] = []
        if self.spec.early_stopping_patience is not None:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=self.spec.early_stopping_patience,
                    restore_best_weights=True,
                )
            )
        if self.on_epoch_end is not None:
            callbacks.append(epoch_callback(self.on_epoch_end))
        result = self.network.fit(
            x,
            target,
            batch_size=self.spec.batch_size,
            epochs=self.spec.epochs,
            validation_split=self.spec.validation_split,
            shuffle=True,
            callbacks=callbacks,
            verbose=0,
        )
        self.history = {k: [float(v) for v in values] for k, values in result.history.items()}
        self.device = device_name()
        return self

    def predict(self, features: Any) -> np.ndarray:
        return decode(forward(self.network, features), self.task, self._classes)

    def predict_proba(self, features: Any) -> np.ndarray | None:
        if self.task != "classification":
            return None
        return probabilities(forward(self.network, features))

    @property
    def classes(self) -> list[Any] | None:
        return self._classes

    def as_pipeline(self, preprocessor: Any) -> Pipeline:
        """Raw rows in, labels or values out: the fitted features, then this network.

        The pipeline scores (accuracy or R^2) like a scikit-learn one, so
        model-agnostic tools such as permutation importance take it as is.
        """
        final: BaseEstimator = (
            FittedKerasClassifier(self)
            if self.task == "classification"
            else FittedKerasRegressor(self)
        )
        return Pipeline([("features", preprocessor), ("model", final)])


class FittedKerasClassifier(ClassifierMixin, BaseEstimator):
    """A trained `TensorflowModel` as a (pre-fitted) scikit-learn classifier."""

    def __init__(self, model: TensorflowModel) -> None:
        self.model = model

    def fit(self, X: Any, y: Any) -> FittedKerasClassifier:
        """Train the network again (scikit-learn's estimator contract)."""
        self.model.fit(X, np.asarray(y))
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return self.model.network is not None

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.model.classes)

    def predict(self, X: Any) -> np.ndarray:
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        proba = self.model.predict_proba(X)
        assert proba is not None
        return proba


class FittedKerasRegressor(RegressorMixin, BaseEstimator):
    """A trained `TensorflowModel` as a (pre-fitted) scikit-learn regressor."""

    def __init__(self, model: TensorflowModel) -> None:
        self.model = model

    def fit(self, X: Any, y: Any) -> FittedKerasRegressor:
        """Train the network again (scikit-learn's estimator contract)."""
        self.model.fit(X, np.asarray(y))
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return self.model.network is not None

    def predict(self, X: Any) -> np.ndarray:
        return self.model.predict(X)


__all__ = [
    "EpochHook",
    "FittedKerasClassifier",
    "FittedKerasRegressor",
    "TensorflowModel",
    "as_matrix",
    "decode",
    "epoch_callback",
    "forward",
    "probabilities",
]
