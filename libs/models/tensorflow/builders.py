"""Keras 3 networks from a `TensorflowModelSpec`: an MLP for rows, a small CNN for images."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from libs.errors import InputError
from libs.models.spec import TensorflowModelSpec
from libs.models.tensorflow.runtime import load_tensorflow

# Per-epoch metric names differ from the test-set metric names (accuracy, mae):
# both land in the same MLflow run, where one key holds one series.
EPOCH_METRIC = {"classification": "acc", "regression": "abs_err"}


@dataclass(frozen=True)
class OutputHead:
    """The last layer and the loss that fit the task."""

    units: int
    activation: str
    loss: str


def output_head(task: str, n_classes: int | None = None) -> OutputHead:
    """Softmax over classes, one sigmoid unit for two classes, one linear unit for regression."""
    if task == "regression":
        return OutputHead(units=1, activation="linear", loss="mean_squared_error")
    if task != "classification":
        raise InputError(f"task: expected classification or regression, got {task!r}")
    if n_classes is None or n_classes < 2:
        raise InputError(f"target: classification needs at least 2 classes, got {n_classes}")
    if n_classes == 2:
        return OutputHead(units=1, activation="sigmoid", loss="binary_crossentropy")
    return OutputHead(units=n_classes, activation="softmax", loss="sparse_categorical_crossentropy")


def head_task(head: OutputHead) -> str:
    """The task an output head serves."""
    return "regression" if head.loss == "mean_squared_error" else "classification"


def image_shape(spec: TensorflowModelSpec, n_features: int) -> tuple[int, int, int]:
    """The (height, width, channels) each row is reshaped to; a square image by default."""
    if spec.image_shape is not None:
        shape = spec.image_shape
        if math.prod(shape) != n_features:
            raise InputError(
                f"model.image_shape: {list(shape)} holds {math.prod(shape)} values but the "
                f"features have {n_features} columns"
            )
        return shape
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise InputError(
            f"model.architecture: cnn needs square images or model.image_shape; "
            f"{n_features} feature columns are not a square number"
        )
    return (side, side, 1)


def _hidden(
    keras: Any, x: Any, layer: Any, spec: TensorflowModelSpec, seed: Callable[[], int]
) -> Any:
    """One hidden layer: linear part, optional batch norm, activation, optional dropout."""
    if spec.batch_norm:
        x = keras.layers.BatchNormalization()(layer(x))
        x = keras.layers.Activation(spec.activation)(x)
    else:
        x = layer(x)
    if spec.dropout > 0:
        x = keras.layers.Dropout(spec.dropout, seed=seed())(x)
    return x


def build_network(
    spec: TensorflowModelSpec, n_features: int, head: OutputHead, seed: int = 0
) -> Any:
    """An uncompiled `keras.Model` taking rows of `n_features` preprocessed values.

    Every random layer gets its own seed drawn from `seed`. Left unseeded, Keras
    draws one per layer from Python's global `random`, which other threads of
    the process (Prefect's run names, retry jitter) also draw from: two seeded
    runs then start from different weights whenever they interleave.
    """
    _, keras = load_tensorflow()
    rng = random.Random(seed)

    def next_seed() -> int:
        return rng.randint(1, 10**9)

    def glorot() -> Any:
        return keras.initializers.GlorotUniform(seed=next_seed())

    if spec.builder:  # your own body; the task's head is added here
        from libs.models.tensorflow.custom import call_builder, with_head

        body = call_builder(spec, n_features, head_task(head))
        return with_head(body, head.units, head.activation, glorot())
    act = None if spec.batch_norm else spec.activation
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    if spec.architecture == "cnn":
        height, width, channels = image_shape(spec, n_features)
        x = keras.layers.Reshape((height, width, channels), name="image")(x)
        for filters in spec.filters:
            conv = keras.layers.Conv2D(
                filters,
                spec.kernel_size,
                padding="same",
                activation=act,
                kernel_initializer=glorot(),
            )
            x = _hidden(keras, x, conv, spec, next_seed)
            if height >= 2 and width >= 2:  # pool while there is something to pool
                x = keras.layers.MaxPooling2D(2)(x)
                height, width = height // 2, width // 2
        x = keras.layers.Flatten()(x)
    for units in spec.units:
        dense = keras.layers.Dense(units, activation=act, kernel_initializer=glorot())
        x = _hidden(keras, x, dense, spec, next_seed)
    outputs = keras.layers.Dense(
        head.units, activation=head.activation, name="output", kernel_initializer=glorot()
    )(x)
    return keras.Model(inputs, outputs, name=f"keras_{spec.architecture}")


def compile_network(network: Any, spec: TensorflowModelSpec, task: str, head: OutputHead) -> Any:
    """Attach optimizer, loss and the one per-epoch metric (accuracy or absolute error)."""
    _, keras = load_tensorflow()
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    name = EPOCH_METRIC[task]
    if task == "regression":
        metric = keras.metrics.MeanAbsoluteError(name=name)
    elif head.units == 1:
        metric = keras.metrics.BinaryAccuracy(name=name)
    else:
        metric = keras.metrics.SparseCategoricalAccuracy(name=name)
    network.compile(
        optimizer=optimizers[spec.optimizer](learning_rate=spec.learning_rate),
        loss=head.loss,
        metrics=[metric],
    )
    return network


__all__ = [
    "EPOCH_METRIC",
    "OutputHead",
    "build_network",
    "compile_network",
    "head_task",
    "image_shape",
    "output_head",
]
