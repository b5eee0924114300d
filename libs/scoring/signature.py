"""Check an input table against a model's input signature, before anything is scored.

The signature arrives as plain `ColumnSpec`s (name, MLflow type name, required),
so this stays free of MLflow. MLflow's own enforcement refuses even int64 for
a double input, which a CSV of whole numbers gives; the casts here that lose
nothing are made first, and only what cannot fit is reported, all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from libs.errors import InputError

_SHOWN = 8

# MLflow column type -> dtype kinds it accepts ("O" is object and pandas' string dtype).
_ACCEPTS: dict[str, frozenset[str]] = {
    "double": frozenset("fiu"),
    "float": frozenset("fiu"),
    "long": frozenset("iu"),
    "integer": frozenset("iu"),
    "boolean": frozenset("b"),
    "string": frozenset("OSU"),
    "binary": frozenset("OS"),
    "datetime": frozenset("MO"),
}


class SignatureError(InputError):
    """The input lacks columns the model needs, or has them with types it cannot take."""


@dataclass(frozen=True)
class ColumnSpec:
    """One named input of a model: its MLflow type name and whether it must be present."""

    name: str
    type: str
    required: bool = True


def _kind(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "O"
    return str(getattr(dtype, "kind", "O"))


_FLOATS = {"double": "float64", "float": "float32"}
_INTS = {"long": "int64", "integer": "int32"}


def _conform_column(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, str | None]:
    """The column cast where the cast is lossless, or the reason it does not fit."""
    kind, found = _kind(series.dtype), f"found {series.dtype}"
    if series.isna().all() and spec.type in (*_FLOATS, "string", "binary", "datetime"):
        # No values, so no type to judge: give it the one the model expects.
        return (
            series.astype(_FLOATS[spec.type]) if spec.type in _FLOATS else series.astype(object)
        ), None
    if spec.type in _FLOATS and kind in "iu":
        return series.astype(_FLOATS[spec.type]), None
    if spec.type in _INTS and kind == "f":
        values = series.to_numpy(dtype=float, na_value=float("nan"))
        if series.isna().any():
            return series, f"{found} with missing values"
        if not (values == values.round()).all():
            return series, found
        return series.astype(_INTS[spec.type]), None
    accepted = _ACCEPTS.get(spec.type)
    if accepted is not None and kind not in accepted:
        return series, found
    return series, None


def conform_to_signature(
    frame: pd.DataFrame, expected: Sequence[ColumnSpec], source: str = "input"
) -> pd.DataFrame:
    """The frame with the model's columns cast where lossless, or one `SignatureError` line.

    Lossless casts: integers to a floating input, integral floats to an integer
    input, an all-empty column to the expected type. The error lists every
    missing required column and every column whose type cannot be made to fit.
    """
    missing, mistyped = [], []
    casts: dict[str, pd.Series] = {}
    for spec in expected:
        if spec.name not in frame.columns:
            if spec.required:
                missing.append(spec.name)
            continue
        series, problem = _conform_column(frame[spec.name], spec)
        if problem:
            mistyped.append(f"{spec.name} (expected {spec.type}, {problem})")
        elif series is not frame[spec.name]:
            casts[spec.name] = series
    if missing or mistyped:
        parts = []
        if missing:
            parts.append(f"missing columns: {_listed(missing)}")
        if mistyped:
            parts.append(f"mistyped columns: {_listed(mistyped)}")
        raise SignatureError(f"{source}: does not match the model's signature: {'; '.join(parts)}")
    return frame.assign(**casts) if casts else frame


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" (and {len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def csv_dtypes(expected: Sequence[ColumnSpec]) -> dict[str, Any]:
    """dtype pins for reading a CSV in chunks: text inputs stay text in every chunk.

    Without them, a chunk where a text column happens to be empty reads it as
    float and fails the model's schema though the file is fine.
    """
    return {c.name: "str" for c in expected if c.type in ("string", "binary")}


__all__ = ["ColumnSpec", "SignatureError", "conform_to_signature", "csv_dtypes"]
