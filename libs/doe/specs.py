"""Design specifications: which experimental design a sweep runs.

Each spec is a pydantic model discriminated on `kind`, so a YAML sweep config
picks one by name and a typo fails at validation, before any run starts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

from libs.errors import InputError


class _DesignBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    replicates: PositiveInt = Field(
        default=1,
        description="Run the whole design this many times (pure error for the analysis).",
    )
    run_order: Literal["random", "standard"] = Field(
        default="random",
        description=(
            "'random': the runs execute in an order shuffled with `seed` (recorded), so a "
            "drift over the sweep (a busier machine) does not masquerade as an effect; "
            "'standard': the textbook (Yates) order."
        ),
    )
    seed: int = Field(default=0, description="Seeds the run order (and a Latin hypercube).")
    replicate_seeds: bool = Field(
        default=True,
        description=(
            "Replicated runs (centre points, `replicates`) train with `split.seed` + the "
            "replicate number, so they measure run-to-run variation: a seeded run repeated "
            "with the same seed gives the same result and no pure error."
        ),
    )
    drop_duplicates: bool = Field(
        default=False,
        description=(
            "Run each distinct real point once, dropping centre-point replicates and points "
            "that rounding made equal. Off by default: replicates give the pure error that "
            "tests lack of fit and curvature."
        ),
    )


class _TwoLevelBase(_DesignBase):
    center_points: NonNegativeInt = Field(
        default=0,
        description=(
            "Centre points added to the two-level runs (numeric factors only): they test "
            "curvature and, replicated, give pure error."
        ),
    )


class FullFactorial(_TwoLevelBase):
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


class FractionalFactorial(_TwoLevelBase):
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


class PlackettBurman(_TwoLevelBase):
    """A two-level screening design: main effects of up to N-1 factors in N runs."""

    kind: Literal["plackett_burman"] = "plackett_burman"


class BoxBehnken(_DesignBase):
    """A three-level response-surface design without corner points (needs >= 3 factors)."""

    kind: Literal["box_behnken"] = "box_behnken"
    center_points: NonNegativeInt | None = Field(
        default=None,
        description="Centre points; none means the textbook number (3 for 3 to 5 factors).",
    )


class CentralComposite(_DesignBase):
    """A two-level factorial plus axial and centre points, for a quadratic fit.

    `circumscribed` puts axial points at +-alpha beyond the bounds: continuous
    and integer factors then run outside [low, high] (an integer factor's axial
    value is rounded, and the analysis uses where it actually ran). Use
    `inscribed` or `faced` when the bounds are hard limits.
    """

    kind: Literal["central_composite"] = "central_composite"
    face: Literal["circumscribed", "inscribed", "faced"] = "circumscribed"
    alpha: Literal["orthogonal", "rotatable"] = Field(
        default="rotatable",
        description="Axial distance: rotatable (2^k)^(1/4), or orthogonal for the centre points.",
    )
    center_points: NonNegativeInt | tuple[NonNegativeInt, NonNegativeInt] | None = Field(
        default=None,
        description=(
            "Centre points: a total, or (factorial block, axial block). None: the textbook "
            "uniform-precision number (5 for 2 factors, 6 for 3, 7 for 4, 10 for 5, 15 for 6)."
        ),
    )


class LatinHypercube(_DesignBase):
    """A space-filling random design; seeded so a sweep is reproducible.

    Categorical and integer factors are allowed: each column's strata are split
    evenly among the levels, so every level gets its share of the samples.
    """

    kind: Literal["latin_hypercube"] = "latin_hypercube"
    samples: PositiveInt
    criterion: Literal["maximin", "center", "centermaximin", "correlation"] = "maximin"
    iterations: PositiveInt | None = None


class DefinitiveScreening(_DesignBase):
    """A definitive screening design (Jones & Nachtsheim 2011): three levels, 2k+1 runs.

    Main effects are orthogonal to each other and to every two-factor
    interaction and quadratic term, so a screen of 5-10 hyper-parameters sees
    curvature at about twice the factor count in runs. Continuous and integer
    factors run at -1, 0, +1; categorical ones need exactly two levels (Jones
    & Nachtsheim 2013). `fake_factors` adds columns that are built and then
    dropped: two give the 2k+3-run design the authors recommend for an error
    estimate.
    """

    kind: Literal["definitive_screening"] = "definitive_screening"
    fake_factors: NonNegativeInt = Field(
        default=0,
        description="Extra construction columns dropped afterwards (2 gives 2k+3 runs).",
    )


class Optimal(_DesignBase):
    """A D- or I-optimal design of `runs` runs for a model, over a constrained candidate set.

    For a budget no classical design fits, settings that cannot run together,
    or categorical factors of any number of levels in a response surface. The
    candidates are a grid (`levels` values of each numeric factor, every level
    of a categorical one); `constraints` remove points: a linear inequality in
    natural units as a string ("max_depth + n_estimators / 100 <= 10"), or a
    disallowed combination as a mapping ({solver: lbfgs, penalty: l1}; a
    numeric entry may be a bound such as ">8"). D-optimal designs estimate the
    coefficients best, I-optimal ones predict best over the region.
    """

    kind: Literal["optimal"] = "optimal"
    criterion: Literal["D", "I"] = "D"
    runs: PositiveInt = Field(
        description="The budget: number of runs (at least the model's terms)."
    )
    model: Literal["linear", "interactions", "quadratic"] = "linear"
    constraints: list[str | dict[str, Any]] = Field(
        default_factory=list,
        description="Linear inequalities in natural units, or disallowed combinations.",
    )
    levels: int = Field(
        default=3, ge=2, le=9, description="Candidate values of each numeric factor."
    )
    pure_error: NonNegativeInt | None = Field(
        default=None,
        description="Runs that repeat a setting (centre runs where every factor has a "
        "centre, else the highest-leverage settings) so lack of fit can be tested; none: "
        "half the runs beyond the model's parameters, at most 4 (0 when the budget has "
        "fewer than 2 runs to spare, and the design's notes say so).",
    )


TwoLevelSpec = Annotated[
    FullFactorial | FractionalFactorial | PlackettBurman, Field(discriminator="kind")
]


class _NextStageBase(_DesignBase):
    first: TwoLevelSpec = Field(description="The design of the stage already run.")

    @model_validator(mode="after")
    def _one_copy(self) -> _NextStageBase:
        if self.replicates != 1 or self.drop_duplicates:
            raise InputError(
                f"{getattr(self, 'kind', 'design')}: replicates and drop_duplicates "
                "belong to the first stage's design"
            )
        return self


class FoldOver(_NextStageBase):
    """A two-level first stage followed by its fold-over, in a second block.

    The full fold-over (every sign reversed) of a resolution III fraction
    frees the main effects from two-factor interactions; folding on one
    factor frees that factor and its interactions (Montgomery 8.6).
    """

    kind: Literal["fold_over"] = "fold_over"
    factor: str | None = Field(
        default=None, description="Fold on this factor (path or letter); none: a full fold-over."
    )


class AugmentToCCD(_DesignBase):
    """A two-level first stage completed into a central composite design.

    Adds 2k axial runs and centre runs in a new block; `orthogonal` alpha
    keeps the block effect orthogonal to the quadratic model (Montgomery 11.4).
    `first` may itself be a fold-over (a three-stage study). With `factors`
    (the active ones) the CCD is built in those alone: the earlier runs are
    projected onto them, and the added runs hold the other factors at their
    centre (a categorical one at its first level, or at `hold`).
    """

    kind: Literal["augment_ccd"] = "augment_ccd"
    first: FullFactorial | FractionalFactorial | PlackettBurman | FoldOver = Field(
        discriminator="kind", description="The design of the stage(s) already run."
    )
    factors: list[str] | None = Field(
        default=None,
        description="The factors of the surface (paths or letters); none: every factor.",
    )
    hold: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of the other factors in the added runs (default: their centre).",
    )
    alpha: Literal["orthogonal", "rotatable", "faced"] = "orthogonal"
    center_points: NonNegativeInt | None = Field(
        default=None,
        description="Centre runs in the axial block; none: as many as stage 1 had, at least 2.",
    )

    @model_validator(mode="after")
    def _one_copy(self) -> AugmentToCCD:
        if self.replicates != 1 or self.drop_duplicates:
            raise InputError(
                "augment_ccd: replicates and drop_duplicates belong to the first stage's design"
            )
        return self


# What an optimal augmentation can follow: every design but another optimal augmentation
# (a non-recursive schema, so the config reference and JSON schema stay finite).
EarlierSpec = Annotated[
    FullFactorial
    | FractionalFactorial
    | PlackettBurman
    | BoxBehnken
    | CentralComposite
    | LatinHypercube
    | FoldOver
    | AugmentToCCD
    | DefinitiveScreening
    | Optimal,
    Field(discriminator="kind"),
]


class AugmentOptimal(_DesignBase):
    """Any earlier design plus D-optimal runs for a model, in a new block (JMP's Augment).

    The earlier runs stay as they ran (a sweep reuses them); `runs` new ones
    maximise det(X'X) of the whole design for `model` with a block effect
    (`libs.doe.augment`). With `factors`, the model is in those alone and the
    new runs hold the others at `hold` (default their centre). The new runs
    satisfy `constraints` and those of an earlier optimal design.
    """

    kind: Literal["augment_optimal"] = "augment_optimal"
    first: EarlierSpec = Field(description="The design of the stage(s) already run.")
    runs: PositiveInt = Field(description="New runs to add (at least what the model lacks).")
    model: Literal["linear", "interactions", "quadratic"] = "quadratic"
    factors: list[str] | None = Field(
        default=None, description="The factors of the model (paths or letters); none: every one."
    )
    hold: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of the other factors in the added runs (default: their centre).",
    )
    constraints: list[str | dict[str, Any]] = Field(
        default_factory=list,
        description="Linear inequalities in natural units, or disallowed combinations.",
    )
    levels: int = Field(
        default=3, ge=2, le=9, description="Candidate values of each numeric factor."
    )

    @model_validator(mode="after")
    def _one_copy(self) -> AugmentOptimal:
        if self.replicates != 1 or self.drop_duplicates:
            raise InputError(
                "augment_optimal: replicates and drop_duplicates belong to the first stage's design"
            )
        return self

    def all_constraints(self) -> list[str | dict[str, Any]]:
        """Its constraints and those of the designs it nests (an optimal first stage's)."""
        inherited: list[str | dict[str, Any]] = []
        first: Any = self.first
        while first is not None:
            inherited = list(getattr(first, "constraints", [])) + inherited
            first = getattr(first, "first", None)
        return [*inherited, *(c for c in self.constraints if c not in inherited)]


DesignSpec = Annotated[
    FullFactorial
    | FractionalFactorial
    | PlackettBurman
    | BoxBehnken
    | CentralComposite
    | LatinHypercube
    | FoldOver
    | AugmentToCCD
    | DefinitiveScreening
    | Optimal
    | AugmentOptimal,
    Field(discriminator="kind"),
]


__all__ = [
    "AugmentOptimal",
    "AugmentToCCD",
    "BoxBehnken",
    "CentralComposite",
    "DefinitiveScreening",
    "DesignSpec",
    "FoldOver",
    "FractionalFactorial",
    "FullFactorial",
    "LatinHypercube",
    "Optimal",
    "PlackettBurman",
    "TwoLevelSpec",
]
