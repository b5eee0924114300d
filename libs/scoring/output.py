"""Predictions as columns next to the input rows, stamped with the model that made them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from libs.errors import InputError

PREDICTION = "prediction"
MODEL_COLUMNS = ("model_name", "model_version", "model_run_id")


def predictions_frame(predictions: Any, rows: int, prefix: str = PREDICTION) -> pd.DataFrame:
    """Any pyfunc output (array, Series, DataFrame, dict of arrays) as named columns.

    One output is `prediction`; several are `prediction_<name or index>`.
    """
    if isinstance(predictions, pd.DataFrame):
        frame = predictions.reset_index(drop=True)
        if frame.shape[1] == 1:
            frame.columns = [prefix]
        else:
            frame.columns = [f"{prefix}_{c}" for c in frame.columns]
    elif isinstance(predictions, pd.Series):
        frame = pd.DataFrame({prefix: predictions.to_numpy()})
    elif isinstance(predictions, Mapping):
        frame = pd.concat(
            [predictions_frame(v, rows, f"{prefix}_{k}") for k, v in predictions.items()], axis=1
        )
    else:
        array = np.asarray(predictions)
        if array.ndim == 0:
            raise ValueError("model returned a single value, expected one per row")
        if array.ndim == 1:
            frame = pd.DataFrame({prefix: array})
        else:
            flat = array.reshape(array.shape[0], -1)
            if flat.shape[1] == 1:
                frame = pd.DataFrame({prefix: flat[:, 0]})
            else:
                frame = pd.DataFrame({f"{prefix}_{i}": flat[:, i] for i in range(flat.shape[1])})
    if len(frame) != rows:
        raise ValueError(f"model returned {len(frame)} predictions for {rows} rows")
    return frame


def stamp_predictions(
    rows: pd.DataFrame, predictions: Any, model: Mapping[str, str]
) -> pd.DataFrame:
    """The input rows, their predictions, and one column per `model` entry (name, version...).

    An input column that a prediction or model column would overwrite is an
    `InputError` naming it: silently replacing a user's column loses data.
    """
    predicted = predictions_frame(predictions, len(rows))
    added = [*predicted.columns, *model]
    clash = [c for c in added if c in rows.columns]
    if clash:
        raise InputError(
            f"input: has column(s) {', '.join(map(str, clash))} that the output reserves "
            "for predictions and the model's identity; rename them"
        )
    out = pd.concat([rows.reset_index(drop=True), predicted], axis=1)
    for key, value in model.items():
        out[key] = str(value)
    return out


__all__ = ["MODEL_COLUMNS", "PREDICTION", "predictions_frame", "stamp_predictions"]
