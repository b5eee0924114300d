"""The declarative feature spec: which columns get which preprocessing.

The spec is owned here (the lib that consumes it) and composed into the
training config by the flows. It is validated once, when the config loads, so
a typo such as `scale: standrad` fails before any data is read.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.errors import InputError
from libs.features.custom import CustomStepSpec

DatetimePart = Literal["year", "month", "day", "dayofweek", "hour"]


class NumericSpec(BaseModel):
    """Numeric columns: impute, optionally clip and log1p, then scale.

    `columns=None` selects every numeric column not claimed elsewhere; `[]`
    selects none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[str] | None = None
    impute: Literal["mean", "median", "most_frequent", "constant"] = "median"
    fill_value: float = 0.0
    scale: Literal["standard", "minmax", "robust", "none"] = "standard"
    log1p: bool = False
    clip: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _ordered_clip(self) -> NumericSpec:
        if self.clip is not None:
            low, high = self.clip
            if math.isnan(low) or math.isnan(high) or low >= high:
                raise InputError(
                    f"feature spec: numeric.clip low ({low}) must be below high ({high})"
                )
        return self


class CategoricalSpec(BaseModel):
    """Categorical columns: impute, then one-hot or ordinal encode.

    Unknown categories at predict time never fail: one-hot gives all zeros,
    ordinal gives -1, so a model serves rows with categories unseen in training.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[str] | None = None
    impute: Literal["most_frequent", "constant"] = "most_frequent"
    fill_value: str = "missing"
    encoding: Literal["onehot", "ordinal"] = "onehot"


class DatetimeSpec(BaseModel):
    """Datetime columns: expanded into calendar parts (numbers a model can use)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[str] | None = None
    parts: list[DatetimePart] = Field(default=["year", "month", "dayofweek", "hour"], min_length=1)


class FeatureSpec(BaseModel):
    """The whole feature spec; the defaults preprocess any frame by dtype.

    Plain defaults (not factories) so they show in the JSON schema and in
    Prefect's parameter forms; pydantic copies mutable defaults per instance.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    numeric: NumericSpec = NumericSpec()
    categorical: CategoricalSpec = CategoricalSpec()
    datetime: DatetimeSpec = DatetimeSpec()
    drop: list[str] = []
    custom: list[CustomStepSpec] = Field(
        default=[],
        description="Your own transformer steps by import path, each on the columns it names.",
    )


__all__ = ["CategoricalSpec", "DatetimePart", "DatetimeSpec", "FeatureSpec", "NumericSpec"]
