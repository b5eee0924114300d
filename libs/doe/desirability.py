"""Several responses at once: Derringer-Suich desirability and the Pareto front.

Derringer and Suich (1980), "Simultaneous optimization of several response
variables", *Journal of Quality Technology* 12(4), as presented in Myers,
Montgomery and Anderson-Cook, *Response Surface Methodology*, 4th ed.,
section 6.6: each response y_i maps to d_i in [0, 1] (0: unacceptable,
1: as good as it gets), and the overall desirability is their weighted
geometric mean, so a single unacceptable response makes a point unacceptable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from libs.errors import InputError


class Desirability(BaseModel):
    """One response's desirability: maximise, minimise or hit a target.

    `low`/`high` bound the acceptable range; `target` is the ideal value of a
    target goal. `shape` (and `shape_high` above a target) is Derringer-Suich's
    exponent: 1 linear, > 1 demanding closeness to the ideal, < 1 lenient.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    goal: Literal["maximize", "minimize", "target"]
    low: float
    high: float
    target: float | None = None
    shape: PositiveFloat = 1.0
    shape_high: PositiveFloat = 1.0
    weight: PositiveFloat = Field(1.0, description="Importance in the geometric mean.")

    @model_validator(mode="after")
    def _consistent(self) -> Desirability:
        if not self.low < self.high:
            raise InputError(f"desirability: low ({self.low}) must be below high ({self.high})")
        if self.goal == "target":
            if self.target is None or not self.low <= self.target <= self.high:
                raise InputError("desirability: a target goal needs low <= target <= high")
        elif self.target is not None:
            raise InputError(f"desirability: target is only for goal 'target', not {self.goal!r}")
        return self

    def __call__(self, y: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """d(y) for each value; NaN (a failed run) is 0."""
        values = np.atleast_1d(np.asarray(y, dtype=float))
        lo, hi = self.low, self.high

        def ramp(num: np.ndarray, den: float, power: float) -> np.ndarray:
            return np.clip(num / den, 0.0, 1.0) ** power

        if self.goal == "maximize":
            d = ramp(values - lo, hi - lo, self.shape)
        elif self.goal == "minimize":
            d = ramp(hi - values, hi - lo, self.shape)
        else:
            t = float(self.target)  # type: ignore[arg-type]
            below = ramp(values - lo, t - lo, self.shape) if t > lo else np.ones_like(values)
            above = ramp(hi - values, hi - t, self.shape_high) if hi > t else np.ones_like(values)
            d = np.where(values <= t, below, above)
            d = np.where((values < lo) | (values > hi), 0.0, d)
        return np.where(np.isnan(values), 0.0, d)


def overall_desirability(
    responses: Mapping[str, np.ndarray | Sequence[float]], specs: Mapping[str, Desirability]
) -> np.ndarray:
    """D = (prod d_i^w_i)^(1 / sum w_i) per run, over the responses named in `specs`."""
    missing = sorted(set(specs) - set(responses))
    if missing:
        raise InputError(f"desirability: no values for response(s) {', '.join(missing)}")
    if not specs:
        raise InputError("desirability: at least one response is needed")
    total = sum(s.weight for s in specs.values())
    log_d = None
    for name, spec in specs.items():
        d = spec(responses[name])
        with np.errstate(divide="ignore"):
            term = spec.weight * np.log(d)
        log_d = term if log_d is None else log_d + term
    assert log_d is not None
    return np.exp(log_d / total)


def pareto_front(
    values: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]
) -> np.ndarray:
    """A boolean mask of the non-dominated rows (runs x responses).

    Row a dominates row b when it is at least as good in every response and
    better in one. Rows with a NaN (failed runs) are never on the front.
    """
    table = np.asarray(values, dtype=float)
    if table.ndim != 2 or table.shape[1] != len(maximize):
        raise InputError("pareto_front: one direction per response column is needed")
    signed = table * np.where(np.asarray(maximize), 1.0, -1.0)
    valid = ~np.isnan(signed).any(axis=1)
    front = valid.copy()
    for i in np.flatnonzero(valid):
        others = signed[valid]
        dominated = np.all(others >= signed[i], axis=1) & np.any(others > signed[i], axis=1)
        front[i] = not dominated.any()
    return front


__all__ = ["Desirability", "overall_desirability", "pareto_front"]
