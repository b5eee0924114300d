"""The path of steepest ascent from a significant first-order model, as runs to train.

Montgomery, *Design and Analysis of Experiments*, 9th ed., section 11.2 and
Example 11.1: fit the first-order model y = b0 + sum b_j x_j (no curvature
term: its intercept is the mean of all runs, 40.44 in the example, not the
centre points' mean), choose a base factor (the largest |b|) and its step
(one coded unit), move every other factor b_j / |b_base| coded units per step,
and run single trials along the path until the response stops improving.

The path is proposed only from a model that is significant: the overall F
test of the first-order model (p < alpha), or, for an unreplicated two-level
design without residual degrees of freedom, Lenth's method finding an active
main effect. Noise never starts a path. Values the estimator would refuse are
never proposed: a step that crosses a factor's hard limit (`libs.doe.limits`)
is clamped to it and ends the path, and `stopped` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from libs.doe.analysis import Response
from libs.doe.limits import clamp, hard_limits
from libs.doe.names import Namer, beyond, region_words
from libs.doe.recommend import (
    _check,
    _design,
    _held_outside,
    _level_effects,
    _model_p,
    _natural,
    fmt,
)
from libs.doe.space import CategoricalFactor, ContinuousFactor, FactorSpace, IntegerFactor
from libs.doe.study import analyse
from libs.errors import InputError


@dataclass(frozen=True)
class SteepestPath:
    """Single runs along the path of steepest ascent (descent when minimising).

    `settings[i]`: step i (step 0 is the design's centre) with every factor
    of the space in natural units, as trained. `table`: step, the natural and
    coded values of the path factors, and the first-order prediction.
    `step_natural`: a step in natural units (decades for a log factor).
    `stopped`: why the path ends before the steps asked for ("" if it does not).
    """

    settings: list[dict[str, Any]]
    table: pd.DataFrame
    factors: list[str]
    intercept: float
    coefficients: dict[str, float]
    base: str
    step_coded: dict[str, float]
    step_natural: dict[str, float]
    significance: str
    stopped: str = ""
    held: dict[str, str] = field(default_factory=dict)
    maximize: bool = True

    def __len__(self) -> int:
        return len(self.settings)

    @property
    def leaves_region(self) -> int | None:
        """The first step outside the factor ranges (None if the path stays inside)."""
        if "beyond (coded)" not in self.table:
            return None
        out = self.table[self.table["beyond (coded)"] > 1e-9]
        return int(out["step"].iloc[0]) if not out.empty else None

    def region_note(self) -> str:
        """`from step 2 the path leaves the factor ranges (step 5: 3.2 coded units
        beyond)`: its later predictions are extrapolations; "" if it stays inside."""
        first = self.leaves_region
        if first is None:
            return ""
        last = self.table.iloc[-1]
        return (
            f"from step {first} the path leaves the factor ranges (step {int(last['step'])}: "
            f"{float(last['beyond (coded)']):.2g} coded units beyond): its predictions there "
            "are extrapolations, to be checked by the runs"
        )


def _significance(
    frame: pd.DataFrame,
    values: np.ndarray,
    space: FactorSpace,
    varying: list[str],
    fit: Any,
    model: Any,
    block: Sequence[int] | None,
    path_factors: list[str],
    alpha: float,
) -> str:
    """A sentence saying why the first-order model is significant, or InputError."""
    result = analyse(frame[varying], values, space, block=block)
    table = result.anova.table if result.anova is not None else None
    if table is not None and "curvature" in table.index:
        p_curv = float(table.loc["curvature", "PR(>F)"])
        if p_curv < alpha:
            raise InputError(
                f"the centre points show curvature (p = {p_curv:.3g}): the optimum is near, "
                "not beyond, the region; augment to a central composite design instead of "
                "moving along a path"
            )
    if result.lenth is not None:
        mains = [
            str(n)
            for t, n in zip(result.effects["term"], result.effects["name"], strict=True)
            if t in result.lenth.active and n in path_factors
        ]
        if not mains:
            raise InputError(
                "no path of steepest ascent: Lenth's method finds no active main effect of "
                f"{', '.join(path_factors)} (the effects are indistinguishable from noise); "
                "replicate the design or widen the ranges"
            )
        return f"Lenth's method finds {', '.join(mains)} active"
    if int(fit.df_resid) < 1:
        raise InputError(
            "no path of steepest ascent: the first-order model leaves no residual degrees of "
            "freedom and too few effects for Lenth's method, so its significance cannot be "
            "tested; add centre points or replicates"
        )
    p = _model_p(fit, model, values)
    if not p < alpha:
        raise InputError(
            f"no path of steepest ascent: the first-order model in {', '.join(path_factors)} "
            f"is not significant (F test p = {p:.3g}), so its direction is noise; replicate "
            "the design or widen the ranges"
        )
    return f"the first-order model is significant (F test p = {p:.3g})"


def _round_sig(value: float, digits: int) -> float:
    if value == 0:
        return 0.0
    return float(round(value, digits - 1 - math.floor(math.log10(abs(value)))))


def _half(factor: ContinuousFactor | IntegerFactor) -> tuple[float, float, bool]:
    """(centre, half-width, log) of a factor, log ones in log10 units."""
    if isinstance(factor, ContinuousFactor) and factor.scale == "log":
        lo, hi = math.log10(factor.low), math.log10(factor.high)
        return (lo + hi) / 2, (hi - lo) / 2, True
    return (factor.low + factor.high) / 2, (factor.high - factor.low) / 2, False


def _value_at(factor: ContinuousFactor | IntegerFactor, steps: float, step_nat: float) -> Any:
    centre, _, log = _half(factor)
    raw = centre + steps * step_nat
    if log:
        return float(f"{10**raw:.6g}")
    if isinstance(factor, IntegerFactor):
        return math.floor(raw + 0.5)
    return float(f"{raw:.6g}")


def steepest_ascent_path(
    coded: pd.DataFrame,
    y: Response,
    space: FactorSpace,
    *,
    maximize: bool = True,
    steps: int = 10,
    step_size: float = 1.0,
    factors: Sequence[str] | None = None,
    base: str | None = None,
    step_digits: int | None = None,
    hold: Mapping[str, Any] | None = None,
    block: Sequence[int] | None = None,
    alpha: float = 0.05,
) -> SteepestPath:
    """Single runs along the path of steepest ascent from a first-order fit of the runs.

    `coded`: the runs of a two-level stage (fold-overs merged, `block` their
    stage numbers), one coded column per factor. `factors`: the numeric
    factors that move (default: every numeric one that varies); categorical
    ones are held at their best fitted level. `base`: the factor that moves
    `step_size` coded units a step (default: the largest |coefficient|).
    `step_digits`: significant digits to round each natural step to, as the
    textbook does (Example 11.1: 2.1 F -> 2 F). Raises InputError when the
    model is not significant or shows curvature.
    """
    if steps < 1:
        raise InputError(f"steps: must be at least 1, got {steps}")
    if not step_size > 0:
        raise InputError(f"step_size: must be positive, got {step_size}")
    frame, values = _check(coded, y, space, alpha)
    varying = [c for c in frame.columns if frame[c].nunique() > 1]
    numeric = [c for c in varying if not isinstance(space.factor(c), CategoricalFactor)]
    path_factors = numeric if factors is None else list(factors)
    bad = [f for f in path_factors if f not in numeric]
    if bad or not path_factors:
        raise InputError(
            f"factors: {', '.join(bad) or 'none'} is not a numeric factor that varies in the runs"
        )
    others = [c for c in varying if c not in path_factors]
    blocks = None if block is None else np.asarray(block, dtype=float)
    model = _design(frame, path_factors, others, blocks, "first-order")
    if np.linalg.matrix_rank(model.x) < model.x.shape[1]:
        raise InputError("the runs cannot separate the first-order effects (aliased columns)")
    fit = sm.OLS(values, model.x).fit()
    significance = _significance(
        frame, values, space, varying, fit, model, block, path_factors, alpha
    )
    params = pd.Series(np.asarray(fit.params), index=model.columns)
    b = {n: float(params[n]) for n in path_factors}
    base = base or max(path_factors, key=lambda n: abs(b[n]))
    if base not in b:
        raise InputError(f"base: {base!r} is not one of the path factors ({', '.join(b)})")
    if b[base] == 0:
        raise InputError(f"base: {base!r} has no effect, so it cannot set the step")
    sign = 1.0 if maximize else -1.0
    step_coded = {n: sign * b[n] * step_size / abs(b[base]) for n in path_factors}
    step_nat: dict[str, float] = {}
    for n in path_factors:
        f = space.factor(n)
        assert not isinstance(f, CategoricalFactor)
        half = _half(f)[1]
        step_nat[n] = step_coded[n] * half
        if step_digits is not None:
            step_nat[n] = _round_sig(step_nat[n], step_digits)
            step_coded[n] = step_nat[n] / half
    fixed, held = _held_outside(space, frame, varying, dict(hold or {}))
    chosen: dict[str, Any] = {}
    effect_at = 0.0
    for name, lv in model.others.items():
        effects = _level_effects(fit, model, name)
        i = int(np.argmax([sign * e for e in effects]))
        value, _ = _natural(space.factor(name), lv[i])
        chosen[name] = value
        effect_at += effects[i]
        held[name] = f"not on the path: at {fmt(value)}, its best fitted level"
    settings: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    stopped = ""
    for i in range(steps + 1):
        point: dict[str, Any] = {}
        hit = ""
        for n in path_factors:
            f = space.factor(n)
            assert not isinstance(f, CategoricalFactor)
            value = _value_at(f, i, step_nat[n])
            limits = hard_limits(f)
            if not limits.allows(float(value)):
                hit = (
                    f"{n} would reach {fmt(value)} at step {i}, beyond its limit "
                    f"({limits.describe()})"
                )
                open_low = limits.low_open and float(value) <= limits.low
                value = None if open_low else clamp(f, value)[0]
            point[n] = value
        if hit and (
            any(v is None for v in point.values())
            or (settings and all(point[n] == settings[-1][n] for n in path_factors))
        ):
            stopped = f"the path stops at step {i - 1}: {hit}"
            break
        full = {**fixed, **chosen, **point}
        settings.append({f.name: full[f.name] for f in space.factors})
        x = {n: float(space.factor(n).encode(point[n])) for n in path_factors}
        predicted = float(params["const"] + sum(b[n] * x[n] for n in path_factors) + effect_at)
        rows.append(
            {
                "step": i,
                **point,
                **{f"{n} (coded)": x[n] for n in path_factors},
                "predicted": predicted,
                "beyond (coded)": beyond(x),
                "region": region_words(x, Namer.of(path_factors)) or "inside",
            }
        )
        if hit:
            stopped = f"the path stops at step {i}: {hit}, so it is clamped there"
            break
    return SteepestPath(
        settings=settings,
        table=pd.DataFrame(rows),
        factors=path_factors,
        intercept=float(params["const"]),
        coefficients=b,
        base=base,
        step_coded=step_coded,
        step_natural=step_nat,
        significance=significance,
        stopped=stopped,
        held={n: held[n] for n in space.names if n in held},
        maximize=maximize,
    )


__all__ = ["SteepestPath", "steepest_ascent_path"]
