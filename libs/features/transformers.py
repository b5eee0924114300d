"""Small transformers the feature pipeline needs and scikit-learn lacks.

Everything here is a module-level class or function, never a lambda or a
closure: the fitted pipeline is pickled with the model (MLflow uses
cloudpickle/pickle) and must load again in a fresh process.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

DEFAULT_PARTS: tuple[str, ...] = ("year", "month", "dayofweek", "hour")
# Spec names -> pandas accessors (pandas is retiring `.dt.dayofweek`; the spec keeps it).
_ACCESSORS = {"dayofweek": "day_of_week"}


def clip_values(X: Any, low: float, high: float) -> np.ndarray:
    """Clip every value into [low, high] (outliers stop dominating a scaler)."""
    return np.clip(np.asarray(X, dtype=float), low, high)


def log1p_values(X: Any) -> np.ndarray:
    """log(1 + x), for skewed non-negative quantities such as counts and prices."""
    return np.log1p(np.asarray(X, dtype=float))


def as_text(X: Any) -> np.ndarray:
    """Cast labels to str, keeping missing values as NaN.

    Encoders need one comparable type per column: a column mixing `1`, `"a"`
    and `True` (or a bool column) would otherwise fail to sort.
    """
    frame = pd.DataFrame(X)
    out = frame.to_numpy(dtype=object).astype(str).astype(object)
    out[frame.isna().to_numpy()] = np.nan
    return out


class DatetimeParts(TransformerMixin, BaseEstimator):
    """Expand each datetime column into calendar parts (year, month, ...).

    Text columns are parsed with `pandas.to_datetime`; a value that does not
    parse at transform time becomes NaN (imputed downstream) rather than
    failing a whole batch at predict time.
    """

    def __init__(self, parts: Sequence[str] = DEFAULT_PARTS) -> None:
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> DatetimeParts:
        frame = self._frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        frame = self._frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"DatetimeParts was fitted on {self.n_features_in_} columns, got {frame.shape[1]}"
            )
        blocks = []
        for position in range(frame.shape[1]):
            stamps = parse_datetimes(frame.iloc[:, position], strict=False)
            for part in self.parts:
                blocks.append(
                    getattr(stamps.dt, _ACCESSORS.get(part, part)).to_numpy(
                        dtype=float, na_value=np.nan
                    )
                )
        if not blocks:
            return np.empty((len(frame), 0), dtype=float)
        return np.column_stack(blocks)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{name}_{part}" for name in names for part in self.parts], dtype=object)

    @staticmethod
    def _frame(X: Any) -> pd.DataFrame:
        return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))


def parse_datetimes(series: pd.Series, *, strict: bool) -> pd.Series:
    """Parse text as datetimes: one inferred format first, then per element.

    The per-element pass ("mixed") is slower but accepts "2024-01-01" next to
    "2024-01-01 10:00", which the single inferred format would reject. With
    `strict=False`, a value that still does not parse becomes NaT.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    with warnings.catch_warnings():
        # "Could not infer format" is expected here: the fallback handles it.
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pd.to_datetime(series, errors="raise")
        except (ValueError, TypeError, OverflowError):
            return pd.to_datetime(series, format="mixed", errors="raise" if strict else "coerce")


__all__ = [
    "DEFAULT_PARTS",
    "DatetimeParts",
    "as_text",
    "clip_values",
    "log1p_values",
    "parse_datetimes",
]
