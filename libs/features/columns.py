"""Resolve a feature spec against a frame: which column goes to which group.

Explicit lists are checked (present, right dtype, in one group only); groups
left as `None` are filled by dtype. Doing this once, before any transformer is
built, turns a typo in a config into a one-line error naming the column instead
of a KeyError deep inside scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from pandas.api import types as ptypes

from libs.features.errors import FeatureSpecError
from libs.features.spec import FeatureSpec
from libs.features.transformers import parse_datetimes

_MAX_LISTED = 20
# Each group's field in the training config, so an error names what to fix.
_FIELDS = {
    "drop": "features.drop",
    "numeric": "features.numeric.columns",
    "categorical": "features.categorical.columns",
    "datetime": "features.datetime.columns",
}


@dataclass(frozen=True)
class ResolvedColumns:
    """The columns each group transforms; `dropped` is every other column of the frame."""

    numeric: list[str]
    categorical: list[str]
    datetime: list[str]
    dropped: list[str]


def is_numeric_column(series: pd.Series) -> bool:
    """Numbers a scaler can take; bool counts as categorical, not numeric."""
    return ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)


def is_categorical_column(series: pd.Series) -> bool:
    """Labels to encode: object, string, category and bool dtypes."""
    dtype = series.dtype
    return (
        ptypes.is_bool_dtype(dtype)
        or ptypes.is_object_dtype(dtype)
        or ptypes.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def is_datetime_column(series: pd.Series) -> bool:
    """datetime64 columns, timezone-aware or not."""
    return ptypes.is_datetime64_any_dtype(series.dtype)


def _available(X: pd.DataFrame) -> str:
    names = [str(c) for c in X.columns]
    shown = ", ".join(names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        shown += f", ... ({len(names) - _MAX_LISTED} more)"
    return shown or "(no columns)"


def _check_listed(group: str, columns: Sequence[str], X: pd.DataFrame) -> None:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise FeatureSpecError(f"{_FIELDS[group]}: column {column!r} is listed twice")
        seen.add(column)
        if column not in X.columns:
            raise FeatureSpecError(
                f"{_FIELDS[group]}: column {column!r} not found in data; available: {_available(X)}"
            )


def _check_numeric(columns: Sequence[str], X: pd.DataFrame) -> None:
    for column in columns:
        series = X[column]
        if not (is_numeric_column(series) or ptypes.is_bool_dtype(series.dtype)):
            raise FeatureSpecError(
                f"features.numeric.columns: column {column!r} is listed as numeric but has dtype "
                f"{series.dtype}; list it under categorical or datetime instead"
            )


def can_parse_datetimes(series: pd.Series) -> bool:
    """True when every non-missing value of a text column parses as a date/time."""
    if not (ptypes.is_object_dtype(series.dtype) or ptypes.is_string_dtype(series.dtype)):
        return False
    try:
        parse_datetimes(series.dropna(), strict=True)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _check_datetime(columns: Sequence[str], X: pd.DataFrame) -> None:
    for column in columns:
        series = X[column]
        if is_datetime_column(series) or can_parse_datetimes(series):
            continue
        raise FeatureSpecError(
            f"features.datetime.columns: column {column!r} is listed as datetime but has dtype "
            f"{series.dtype} and its values do not parse as dates"
        )


def resolve_columns(spec: FeatureSpec, X: pd.DataFrame) -> ResolvedColumns:
    """Assign every column of `X` to one group (or to `dropped`), checking the spec."""
    listed: dict[str, list[str]] = {"drop": list(spec.drop)}
    for group, columns in (
        ("numeric", spec.numeric.columns),
        ("categorical", spec.categorical.columns),
        ("datetime", spec.datetime.columns),
    ):
        if columns is not None:
            listed[group] = list(columns)

    owner: dict[str, str] = {}
    for group, columns in listed.items():
        _check_listed(group, columns, X)
        for column in columns:
            if column in owner:
                raise FeatureSpecError(
                    f"{_FIELDS[group]}: column {column!r} is listed in {_FIELDS[owner[column]]} too"
                )
            owner[column] = group
    _check_numeric(listed.get("numeric", []), X)
    _check_datetime(listed.get("datetime", []), X)

    free = [c for c in X.columns if c not in owner]
    numeric = listed.get("numeric", [c for c in free if is_numeric_column(X[c])])
    categorical = listed.get("categorical", [c for c in free if is_categorical_column(X[c])])
    datetime = listed.get("datetime", [c for c in free if is_datetime_column(X[c])])
    used = set(numeric) | set(categorical) | set(datetime)
    dropped = [c for c in X.columns if c not in used]
    return ResolvedColumns(
        numeric=list(numeric),
        categorical=list(categorical),
        datetime=list(datetime),
        dropped=dropped,
    )


__all__ = [
    "ResolvedColumns",
    "can_parse_datetimes",
    "is_categorical_column",
    "is_datetime_column",
    "is_numeric_column",
    "resolve_columns",
]
