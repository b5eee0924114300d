"""Smoke-test a freshly loaded version before it may be served.

The version scores its own input example (or, without one, nothing can be
checked and it is refused: a version that cannot show it works is not swapped
in). The predictions must be one per row, of a number or text type, and finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from libs.errors import InputError
from libs.scoring import conform_to_signature
from libs.serving.slot import ServedModel


class SmokeTestError(InputError):
    """The version failed its smoke test: the message says why (it becomes a tag)."""


def _example_frame(served: ServedModel) -> pd.DataFrame:
    example = served.input_example
    if example is None:
        raise SmokeTestError("no input example was logged with the model: nothing to test it on")
    frame = example if isinstance(example, pd.DataFrame) else pd.DataFrame(example)
    if frame.empty:
        raise SmokeTestError("the input example has no rows")
    if served.columns is not None:
        try:
            frame = conform_to_signature(frame, served.columns, source="input example")
        except InputError as exc:
            raise SmokeTestError(str(exc)) from None
    return frame


def smoke_test(served: ServedModel) -> Any:
    """Score the input example; return the predictions or raise `SmokeTestError`."""
    frame = _example_frame(served)
    try:
        predictions = served.model.predict(frame)
    except Exception as exc:  # any failure of the model is a failed smoke test
        raise SmokeTestError(
            f"predict failed on the input example: {type(exc).__name__}: {exc}"
        ) from None
    values = predictions.to_numpy() if isinstance(predictions, pd.DataFrame | pd.Series) else None
    array = np.asarray(values if values is not None else predictions)
    if array.ndim == 0 or len(array) != len(frame):
        shape = "a scalar" if array.ndim == 0 else f"{len(array)} predictions"
        raise SmokeTestError(f"{shape} for {len(frame)} example rows")
    if array.dtype.kind not in "biufOSU":
        raise SmokeTestError(f"predictions of type {array.dtype}, not numbers or labels")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise SmokeTestError("predictions contain NaN or infinite values")
    return predictions


__all__ = ["SmokeTestError", "smoke_test"]
