"""Factor spaces: which training-config fields a sweep varies, and over what range.

A factor maps a *coded* value (the unit a design is written in: -1 is the low
end, +1 the high end, 0 the centre) to a *real* value that goes into a
training config, and back. Keeping both directions in one place means the
design generator and the analysis agree on what a coded value means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.errors import InputError

# A dotted path into a nested training config: `model.params.C`.
_DOTTED = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")

Level = str | int | float | bool


class _FactorBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str

    @field_validator("name")
    @classmethod
    def _dotted_name(cls, name: str) -> str:
        if not _DOTTED.match(name):
            raise InputError(
                f"factor name {name!r} is not a dotted config path such as 'model.params.C'"
            )
        return name


class _NumericFactor(_FactorBase):
    @model_validator(mode="after")
    def _ordered_bounds(self) -> _NumericFactor:
        low, high = self.low, self.high  # type: ignore[attr-defined]
        if not math.isfinite(low) or not math.isfinite(high):
            raise InputError(f"factor {self.name!r}: bounds must be finite numbers")
        if low >= high:
            raise InputError(f"factor {self.name!r}: low ({low}) must be below high ({high})")
        return self


class ContinuousFactor(_NumericFactor):
    """A real-valued factor; `scale="log"` spaces levels evenly in log10 (learning rates, C)."""

    type: Literal["continuous"] = "continuous"
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _log_needs_positive(self) -> ContinuousFactor:
        if self.scale == "log" and self.low <= 0:
            raise InputError(f"factor {self.name!r}: a log scale needs low > 0, got low={self.low}")
        return self

    def _centre_half(self) -> tuple[float, float]:
        lo, hi = (
            (math.log10(self.low), math.log10(self.high))
            if self.scale == "log"
            else (self.low, self.high)
        )
        return (lo + hi) / 2, (hi - lo) / 2

    def decode(self, coded: float) -> float:
        """Coded -> real. Values beyond +-1 (CCD axial points) extrapolate past the bounds."""
        centre, half = self._centre_half()
        value = centre + float(coded) * half
        return float(10**value) if self.scale == "log" else float(value)

    def encode(self, value: Any) -> float:
        """Real -> coded, the inverse of `decode`."""
        centre, half = self._centre_half()
        x = math.log10(float(value)) if self.scale == "log" else float(value)
        return (x - centre) / half


class IntegerFactor(_NumericFactor):
    """An integer factor (tree depth, number of estimators); decoded values are rounded."""

    type: Literal["integer"] = "integer"
    low: int
    high: int

    def decode(self, coded: float, clip: bool = True) -> int:
        """Coded -> real, rounded half up and (by default) clipped into [low, high].

        Clipping keeps a fractional tree depth or a negative estimator count out
        of training; a circumscribed CCD decodes its axial points unclipped, so
        they stay beyond the faces instead of silently landing on them.
        """
        centre, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        value = math.floor(centre + float(coded) * half + 0.5)
        return int(min(max(value, self.low), self.high)) if clip else int(value)

    @property
    def n_levels(self) -> int:
        return self.high - self.low + 1

    def encode(self, value: Any) -> float:
        """Real -> coded, so a rounded value is analysed where it actually ran."""
        centre, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        return (float(value) - centre) / half


class CategoricalFactor(_FactorBase):
    """A factor with named levels (a solver, a kernel).

    Level i of k is coded as -1 + 2i/(k-1), so two levels are -1/+1. The code
    is an ordering of convenience, not a claim that the levels are ordered.
    """

    type: Literal["categorical"] = "categorical"
    levels: list[Level]

    @model_validator(mode="after")
    def _enough_distinct_levels(self) -> CategoricalFactor:
        if len(self.levels) < 2:
            raise InputError(
                f"factor {self.name!r}: a categorical factor needs at least 2 levels, "
                f"got {len(self.levels)}"
            )
        keys = [(type(v), v) for v in self.levels]
        if len(set(keys)) != len(keys):
            raise InputError(f"factor {self.name!r}: levels must be distinct, got {self.levels}")
        return self

    def index(self, coded: float) -> int:
        """Coded -> the position of the nearest level (0 .. k-1)."""
        k = len(self.levels)
        return min(max(round((float(coded) + 1) * (k - 1) / 2), 0), k - 1)

    def decode(self, coded: float) -> Level:
        """Coded -> the nearest level."""
        return self.levels[self.index(coded)]

    def encode(self, value: Any) -> float:
        """Level -> its code."""
        for i, level in enumerate(self.levels):
            if type(level) is type(value) and level == value:
                return -1 + 2 * i / (len(self.levels) - 1)
        raise InputError(f"factor {self.name!r}: {value!r} is not one of {self.levels}")


Factor = Annotated[
    ContinuousFactor | IntegerFactor | CategoricalFactor, Field(discriminator="type")
]


class FactorSpace(BaseModel):
    """The factors a sweep varies, in design-column order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    factors: list[Factor]

    @model_validator(mode="after")
    def _non_empty_unique(self) -> FactorSpace:
        if not self.factors:
            raise InputError("factors: at least one factor is needed")
        names = [f.name for f in self.factors]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise InputError(f"factors: names must be unique, repeated: {', '.join(duplicated)}")
        return self

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    def factor(self, name: str) -> ContinuousFactor | IntegerFactor | CategoricalFactor:
        for f in self.factors:
            if f.name == name:
                return f
        raise InputError(f"factor {name!r} is not in the factor space ({', '.join(self.names)})")

    def decode(self, coded: Mapping[str, float], clip: bool = True) -> dict[str, Any]:
        """One coded point -> real values keyed by factor name (`clip`: integer factors)."""
        return {
            f.name: f.decode(coded[f.name], clip)
            if isinstance(f, IntegerFactor)
            else f.decode(coded[f.name])
            for f in self.factors
        }

    def encode(self, point: Mapping[str, Any]) -> dict[str, float]:
        """One real point -> coded values keyed by factor name."""
        return {f.name: f.encode(point[f.name]) for f in self.factors}


__all__ = [
    "CategoricalFactor",
    "ContinuousFactor",
    "Factor",
    "FactorSpace",
    "IntegerFactor",
    "Level",
]
