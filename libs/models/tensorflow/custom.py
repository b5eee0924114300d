"""Your own Keras network (`model.builder`): called as `builder(input_shape, task, params)`.

The builder returns a Keras model, the body; the platform appends the output
layer the task needs (units, activation and loss for binary, multi-class or
regression) and compiles it with the spec's optimizer, so a builder does not
need the number of classes. It is checked on a one-row input before any run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from libs.errors import InputError
from libs.models.imports import import_function
from libs.models.spec import TensorflowModelSpec
from libs.models.tensorflow.runtime import load_tensorflow

FIELD = "model.builder"


def call_builder(spec: TensorflowModelSpec, n_features: int, task: str) -> Any:
    """The builder's model for rows of `n_features` values; InputError naming the path if
    it fails, returns no Keras model, or does not take a one-row input."""
    _, keras = load_tensorflow()
    path = str(spec.builder)
    builder = import_function(path, FIELD)
    try:
        body = builder((n_features,), task, dict(spec.params))
    except Exception as exc:
        raise InputError(
            f"{FIELD}: '{path}'(input_shape=({n_features},), task='{task}', params) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(body, keras.Model):
        raise InputError(
            f"{FIELD}: '{path}' returned {type(body).__name__}, not a Keras model (keras.Model)"
        )
    try:
        out = body(np.zeros((1, n_features), dtype="float32"))
    except Exception as exc:
        raise InputError(
            f"{FIELD}: '{path}''s model fails on one row of {n_features} features: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    if isinstance(out, list | tuple | dict):
        raise InputError(f"{FIELD}: '{path}''s model has several outputs; give it one")
    return body


def check_builder(spec: TensorflowModelSpec, n_features: int, task: str) -> None:
    """Build once on a one-row input (no training): a bad builder fails before any run."""
    call_builder(spec, n_features, task)


def with_head(body: Any, units: int, activation: str, initializer: Any) -> Any:
    """The body followed by the task's output layer (flattened first if it is not 2-D)."""
    _, keras = load_tensorflow()
    inputs = keras.Input(shape=body.inputs[0].shape[1:], name="features")
    x = body(inputs)
    if len(x.shape) > 2:
        x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(
        units, activation=activation, name="output", kernel_initializer=initializer
    )(x)
    return keras.Model(inputs, outputs, name=f"keras_{body.name}")


__all__ = ["call_builder", "check_builder", "with_head"]
