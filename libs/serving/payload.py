"""MLflow's scoring protocol, parsed into a checked frame, and predictions back to JSON.

The request bodies `mlflow models serve` accepts: JSON with `dataframe_split`,
`dataframe_records`, `instances` or `inputs`, or CSV (`text/csv`). The frame is
then conformed to the model's column signature, so a request that does not fit
is refused with the column named (a 400), never scored into a 500.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from libs.errors import InputError
from libs.scoring import ColumnSpec, SignatureError, conform_to_signature

_JSON_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class RequestError(InputError):
    """A request body the server cannot score: the message says what to change."""


def _frame_from_json(payload: Any, columns: Sequence[ColumnSpec] | None) -> pd.DataFrame:
    if not isinstance(payload, dict):
        raise RequestError(f"body: expected a JSON object with one of {', '.join(_JSON_KEYS)}")
    keys = [k for k in _JSON_KEYS if k in payload]
    if len(keys) != 1:
        found = ", ".join(sorted(payload)) or "none"
        raise RequestError(
            f"body: expected exactly one of {', '.join(_JSON_KEYS)} (found keys: {found})"
        )
    key = keys[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise RequestError("dataframe_split: expected an object with 'columns' and 'data'")
        try:
            return pd.DataFrame(value["data"], columns=value.get("columns"))
        except (ValueError, TypeError) as exc:
            raise RequestError(f"dataframe_split: {exc}") from None
    rows = value
    if isinstance(rows, dict):  # {"inputs": {"col": [values], ...}}: one list per column
        try:
            return pd.DataFrame(rows)
        except ValueError as exc:
            raise RequestError(f"{key}: {exc}") from None
    if not isinstance(rows, list):
        raise RequestError(f"{key}: expected a list of rows")
    if not rows:
        raise RequestError(f"{key}: no rows to score")
    if rows and all(isinstance(r, dict) for r in rows):
        return pd.DataFrame(rows)
    if rows and all(isinstance(r, list) for r in rows):
        names = [c.name for c in columns] if columns else None
        if names is not None and any(len(r) != len(names) for r in rows):
            raise RequestError(
                f"{key}: each row needs {len(names)} values, in the order {', '.join(names)}"
            )
        return pd.DataFrame(rows, columns=names)
    raise RequestError(f"{key}: expected a list of objects (column: value) or of lists")


def parse_request(
    body: bytes, content_type: str, columns: Sequence[ColumnSpec] | None
) -> pd.DataFrame:
    """The request's rows as a frame conformed to `columns`; a `RequestError` line otherwise."""
    kind = (content_type or "application/json").split(";")[0].strip().lower()
    if kind == "text/csv":
        try:
            frame = pd.read_csv(io.BytesIO(body))
        except (ValueError, pd.errors.ParserError) as exc:
            raise RequestError(f"body: not a CSV table: {exc}".splitlines()[0]) from None
    elif kind in ("application/json", ""):
        try:
            payload = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestError(f"body: not JSON: {exc}") from None
        frame = _frame_from_json(payload, columns)
    else:
        raise RequestError(
            f"content type '{kind}' is not accepted: send application/json or text/csv"
        )
    if frame.empty:
        raise RequestError("body: no rows to score")
    if columns is None:
        return frame
    try:
        conformed = conform_to_signature(frame, columns, source="request")
    except SignatureError as exc:
        raise RequestError(str(exc)) from None
    return conformed[[c.name for c in columns if c.name in conformed.columns]]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def predictions_list(predictions: Any) -> list[Any]:
    """Predictions as JSON-ready values (arrays, series and frames alike)."""
    if isinstance(predictions, pd.DataFrame):
        return [{k: _plain(v) for k, v in row.items()} for row in predictions.to_dict("records")]
    if isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    array = np.asarray(predictions)
    return [_plain(v) for v in array.tolist()] if array.ndim == 1 else array.tolist()


def predictions_json(predictions: Any) -> dict[str, Any]:
    """The response body `mlflow models serve` gives: `{"predictions": [...]}`."""
    return {"predictions": predictions_list(predictions)}


__all__ = ["RequestError", "parse_request", "predictions_json", "predictions_list"]
