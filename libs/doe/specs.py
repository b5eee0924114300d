"""Design specifications: which experimental design a sweep runs.

Each spec is a pydantic model discriminated on `kind`, so a YAML sweep config
picks one by name and a typo fails at validation, before any run starts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from libs.errors import InputError


class _DesignBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drop_duplicates: bool = Field(
        default=True,
        description=(
            "Run each distinct real point once. A seeded training run repeated gives the "
            "same result, so replicated centre points and points that rounding made equal "
            "cost time and add no information. Set false when training is stochastic."
        ),
    )


class FullFactorial(_DesignBase):
    """Every combination of levels; categoricals use all their levels."""

    kind: Literal["full_factorial"] = "full_factorial"
    levels: PositiveInt | dict[str, PositiveInt] = Field(
        default=2,
        description="Levels per numeric factor: one number for all, or per factor name "
        "(factors not named get 2).",
    )

    @model_validator(mode="after")
    def _at_least_two_levels(self) -> FullFactorial:
        values = self.levels.values() if isinstance(self.levels, dict) else [self.levels]
        if any(v < 2 for v in values):
            raise InputError(
                f"full_factorial.levels: every factor needs >= 2 levels, got {self.levels}"
            )
        return self


class FractionalFactorial(_DesignBase):
    """A two-level 2^(k-p) design, from a generator string or a target resolution."""

    kind: Literal["fractional_factorial"] = "fractional_factorial"
    generator: str | None = Field(
        default=None, description="pyDOE generator, one word per factor, e.g. 'a b c abc'."
    )
    resolution: int | None = Field(
        default=None, ge=3, description="Minimum resolution (3-5 usual)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> FractionalFactorial:
        if (self.generator is None) == (self.resolution is None):
            raise InputError("fractional_factorial: give exactly one of generator or resolution")
        return self


class PlackettBurman(_DesignBase):
    """A two-level screening design: main effects of up to N-1 factors in N runs."""

    kind: Literal["plackett_burman"] = "plackett_burman"


class BoxBehnken(_DesignBase):
    """A three-level response-surface design without corner points (needs >= 3 factors)."""

    kind: Literal["box_behnken"] = "box_behnken"
    center_points: NonNegativeInt | None = Field(
        default=None, description="Centre points; none means pyDOE's default (3 for 3 factors)."
    )


class CentralComposite(_DesignBase):
    """A two-level factorial plus axial and centre points, for a quadratic fit.

    `circumscribed` puts axial points at +-alpha beyond the bounds: continuous
    factors then run outside [low, high] and integer factors are clipped to
    their bounds. Use `inscribed` or `faced` when the bounds are hard limits.
    """

    kind: Literal["central_composite"] = "central_composite"
    face: Literal["circumscribed", "inscribed", "faced"] = "circumscribed"
    alpha: Literal["orthogonal", "rotatable"] = "orthogonal"
    center_points: tuple[NonNegativeInt, NonNegativeInt] = Field(
        default=(4, 4),
        description="Centre points in the factorial block and in the axial block (pyDOE).",
    )


class LatinHypercube(_DesignBase):
    """A space-filling random design; seeded so a sweep is reproducible.

    Categorical factors are allowed: each column's strata are split evenly
    among the levels, so every level gets its share of the samples.
    """

    kind: Literal["latin_hypercube"] = "latin_hypercube"
    samples: PositiveInt
    seed: int = 0
    criterion: Literal["maximin", "center", "centermaximin", "correlation"] = "maximin"
    iterations: PositiveInt | None = None


DesignSpec = Annotated[
    FullFactorial
    | FractionalFactorial
    | PlackettBurman
    | BoxBehnken
    | CentralComposite
    | LatinHypercube,
    Field(discriminator="kind"),
]


__all__ = [
    "BoxBehnken",
    "CentralComposite",
    "DesignSpec",
    "FractionalFactorial",
    "FullFactorial",
    "LatinHypercube",
    "PlackettBurman",
]
