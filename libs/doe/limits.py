"""Hard limits of a factor, inferred from its declared range, so no stage proposes a value
the estimator refuses.

A factor declares only its low and high ends; the limits beyond them are
inferred conservatively from its type and the sign of its range:

- an integer factor whose range starts at 1 or more never goes below 1 (tree
  depth, estimators, leaf sizes), one that starts at 0 or more never below 0;
- a continuous factor whose range is positive stays strictly positive (a log
  scale always does: it moves in log space), one that starts at 0 never goes
  below 0;
- a linear continuous factor with 0 <= low and high <= 1 is a fraction or a
  probability (subsample, max_features, l1_ratio): never above 1. A log-scale
  factor spans decades (C, alpha, a learning rate) and has no such cap.

Anything else is unbounded. A categorical factor has no numeric limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from libs.doe.space import CategoricalFactor, ContinuousFactor, IntegerFactor


@dataclass(frozen=True)
class Limits:
    """Natural-unit limits: `low` (inclusive unless `low_open`) and `high` (inclusive)."""

    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return bool(above and value <= self.high)

    def describe(self) -> str:
        parts = []
        if self.low > -math.inf:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high < math.inf:
            parts.append(f"<= {self.high:g}")
        return " and ".join(parts) or "unbounded"


def hard_limits(factor: ContinuousFactor | IntegerFactor | CategoricalFactor) -> Limits:
    """The limits a factor's values must respect beyond its declared range (see module doc)."""
    if isinstance(factor, CategoricalFactor):
        return Limits()
    if isinstance(factor, IntegerFactor):
        if factor.low >= 1:
            return Limits(low=1)
        return Limits(low=0) if factor.low >= 0 else Limits()
    fraction = factor.scale == "linear" and factor.low >= 0 and factor.high <= 1
    high = 1.0 if fraction else math.inf
    if factor.scale == "log" or factor.low > 0:
        return Limits(low=0.0, low_open=True, high=high)
    if factor.low == 0:
        return Limits(low=0.0, high=high)
    return Limits(high=high)


def clamp(
    factor: ContinuousFactor | IntegerFactor | CategoricalFactor, value: Any
) -> tuple[Any, bool]:
    """`value` moved inside the factor's hard limits, and whether it had to move.

    A strictly positive factor cannot be clamped onto 0; it is clamped to the
    smallest value of its declared range instead (the caller says so).
    """
    if isinstance(factor, CategoricalFactor):
        return value, False
    limits = hard_limits(factor)
    if limits.allows(float(value)):
        return value, False
    if float(value) > limits.high:
        moved: float = limits.high
    else:
        moved = float(factor.low) if limits.low_open else limits.low
    return (int(moved) if isinstance(factor, IntegerFactor) else float(moved)), True


__all__ = ["Limits", "clamp", "hard_limits"]
