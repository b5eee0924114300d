"""Sequential experimentation on coded designs: fold-over and augmentation to a CCD.

Real studies screen first, then separate aliased effects, then fit a
surface around the promising region (Montgomery, *Design and Analysis of
Experiments*, 9th ed., section 8.6 on fold-over and section 11.4 on
central composite designs run in blocks). These functions take the coded
runs of a finished two-level stage and return the coded runs of the next
stage plus the combined design with a block column, so the analysis of the
combined design can separate the stages; the runs of the first stage are
kept as they are (a sweep reuses them instead of retraining).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from libs.errors import InputError

BLOCK = "block"


@dataclass(frozen=True)
class NextStage:
    """The runs a follow-up stage adds, and the combined design to analyse.

    `added` holds only the new runs (coded, factor columns); `combined` holds
    the first stage then the new runs, with a `block` column (1, 2).
    """

    added: pd.DataFrame
    combined: pd.DataFrame
    description: str


def _factorial_part(coded: pd.DataFrame) -> pd.DataFrame:
    values = coded.to_numpy(dtype=float)
    cube = np.all(np.isclose(np.abs(values), 1.0), axis=1)
    if not cube.any():
        raise InputError("the first stage has no two-level (+-1) runs to build on")
    centre = np.all(np.isclose(values, 0.0), axis=1)
    other = ~(cube | centre)
    if other.any():
        raise InputError(
            "the first stage is not a two-level design (it has runs off the cube and centre)"
        )
    return coded[cube]


def _combine(first: pd.DataFrame, added: pd.DataFrame) -> pd.DataFrame:
    combined = pd.concat([first, added], ignore_index=True)
    combined[BLOCK] = [1] * len(first) + [2] * len(added)
    return combined


def fold_over(coded: pd.DataFrame, factor: str | None = None) -> NextStage:
    """The fold-over of a two-level fraction: all signs reversed, or one factor's.

    A full fold-over of a resolution III fraction frees every main effect from
    two-factor interactions; folding on one factor frees that factor and its
    two-factor interactions (Montgomery section 8.6.2). Centre points are not
    folded (they map onto themselves).
    """
    cube = _factorial_part(coded)
    if factor is not None and factor not in coded.columns:
        raise InputError(
            f"--fold-over factor {factor!r} is not a factor of the design "
            f"({', '.join(map(str, coded.columns))})"
        )
    added = cube.copy()
    if factor is None:
        added = -added
        description = "full fold-over (every sign reversed)"
    else:
        added[factor] = -added[factor]
        description = f"fold-over on {factor}"
    added = added.reset_index(drop=True) + 0.0  # no -0.0 in the table
    return NextStage(added, _combine(coded.reset_index(drop=True), added), description)


def axial_distance(
    k: int,
    n_factorial: int,
    centre_first: int,
    centre_added: int,
    alpha: Literal["orthogonal", "rotatable", "faced"],
) -> float:
    """The axial distance of a CCD run in two blocks (factorial, then axial).

    `orthogonal` makes the block effect orthogonal to the model's
    coefficients: alpha = sqrt(n_F (2k + n_c2) / (2 (n_F + n_c1))) (Montgomery
    section 11.4.2, eq. 11.23); `rotatable` is n_F^(1/4); `faced` is 1.
    """
    if alpha == "faced":
        return 1.0
    if alpha == "rotatable":
        return float(n_factorial**0.25)
    return math.sqrt(n_factorial * (2 * k + centre_added) / (2 * (n_factorial + centre_first)))


def augment_to_ccd(
    coded: pd.DataFrame,
    alpha: Literal["orthogonal", "rotatable", "faced"] = "orthogonal",
    center_points: int | None = None,
) -> NextStage:
    """Axial and centre runs that turn a finished two-level stage into a CCD.

    The first stage must be a full factorial or a fraction of resolution V
    or more in the factors (so that the two-factor interactions of the
    quadratic model are estimable); that check belongs to the caller, which
    knows the design's resolution. `center_points` is the number of centre
    runs in the axial block (default: as many as the first stage has, at
    least 2, so the second block carries its own pure error).
    """
    cube = _factorial_part(coded)
    names = list(coded.columns)
    k = len(names)
    values = coded.to_numpy(dtype=float)
    centre_first = int(np.all(np.isclose(values, 0.0), axis=1).sum())
    added_centre = max(centre_first, 2) if center_points is None else int(center_points)
    if added_centre < 0:
        raise InputError(f"--augment center_points must be >= 0, got {center_points}")
    distance = axial_distance(k, len(cube), centre_first, added_centre, alpha)
    axial = np.zeros((2 * k, k))
    for j in range(k):
        axial[2 * j, j] = -distance
        axial[2 * j + 1, j] = distance
    added = pd.DataFrame(np.vstack([axial, np.zeros((added_centre, k))]), columns=names) + 0.0
    description = (
        f"augmented to a central composite design: {2 * k} axial runs at alpha={distance:.4g} "
        f"({alpha}) and {added_centre} centre runs, in a second block"
    )
    return NextStage(added, _combine(coded.reset_index(drop=True), added), description)


__all__ = ["BLOCK", "NextStage", "augment_to_ccd", "axial_distance", "fold_over"]
