"""Which columns of a table a model reads, resolved as its training did, for the drift check.

A drift check scores the model's inputs only: a column the training config
dropped (an id) or left out of every feature group is not one, and a column
the config lists as a date is compared as a date, not as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from libs.errors import InputError


@dataclass(frozen=True)
class ModelInputs:
    """The columns the model reads, and which of them are dates."""

    columns: list[str]
    dates: list[str]


def model_inputs(
    features: Mapping[str, Any] | None, frame: pd.DataFrame, target: str
) -> ModelInputs | None:
    """The model's input columns in `frame` (its training data), by the feature spec it was
    trained with; None without a spec, or one this frame does not fit (then the caller
    compares what it has)."""
    from pydantic import ValidationError

    from libs.features.columns import resolve_columns
    from libs.features.spec import FeatureSpec

    if not features:
        return None
    try:
        spec = FeatureSpec.model_validate(dict(features))
        resolved = resolve_columns(spec, frame.drop(columns=[target], errors="ignore"))
    except (InputError, ValidationError):
        return None
    used = {*resolved.numeric, *resolved.categorical, *resolved.datetime}
    return ModelInputs(
        columns=[str(c) for c in frame.columns if c in used], dates=list(resolved.datetime)
    )


__all__ = ["ModelInputs", "model_inputs"]
