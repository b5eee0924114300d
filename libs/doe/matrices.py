"""Coded design matrices in standard order (pyDOE), and a design's size without building it.

`coded_matrix` is the textbook matrix of a single-stage design (centre points
and replicates included, before duplicates are dropped); `design_size` bounds
the runs of any design, staged ones included, from the spec alone.
"""

from __future__ import annotations

import math

import numpy as np
import pydoe

from libs.doe.dsd import dsd_matrix, dsd_size
from libs.doe.optimal import optimal_matrix
from libs.doe.space import CategoricalFactor, FactorSpace, IntegerFactor
from libs.doe.specs import (
    AugmentOptimal,
    AugmentToCCD,
    BoxBehnken,
    CentralComposite,
    DefinitiveScreening,
    DesignSpec,
    FoldOver,
    FractionalFactorial,
    FullFactorial,
    LatinHypercube,
    Optimal,
    PlackettBurman,
)
from libs.errors import InputError

# Uniform-precision centre points of a rotatable CCD on a full 2^k cube
# (Montgomery, Design and Analysis of Experiments, 9th ed., Table 11.11 after
# Box and Hunter 1957): 13 runs for 2 factors, 20 for 3, 31 for 4.
CCD_CENTER_POINTS = {2: 5, 3: 6, 4: 7, 5: 10, 6: 15}


def _index_to_code(index: np.ndarray, n_levels: int) -> np.ndarray:
    return -1.0 + 2.0 * index / (n_levels - 1)


def _full_factorial(space: FactorSpace, spec: FullFactorial) -> np.ndarray:
    per_factor = spec.levels if isinstance(spec.levels, dict) else {}
    unknown = sorted(set(per_factor) - set(space.names))
    if unknown:
        raise InputError(f"full_factorial.levels names unknown factors: {', '.join(unknown)}")
    counts: list[int] = []
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            if f.name in per_factor:
                raise InputError(
                    f"full_factorial.levels: factor {f.name!r} is categorical and always "
                    f"uses all its {len(f.levels)} levels"
                )
            counts.append(len(f.levels))
        else:
            counts.append(
                per_factor.get(f.name, spec.levels if isinstance(spec.levels, int) else 2)
            )
    index = pydoe.fullfact(counts)
    return np.column_stack([_index_to_code(index[:, j], n) for j, n in enumerate(counts)])


def _check_two_level(space: FactorSpace, kind: str) -> None:
    for f in space.factors:
        if isinstance(f, CategoricalFactor) and len(f.levels) > 2:
            raise InputError(
                f"factor {f.name!r}: {kind} is a two-level design and cannot run a "
                f"categorical factor with {len(f.levels)} levels; use full_factorial "
                f"or latin_hypercube"
            )


def check_no_categorical(space: FactorSpace, kind: str) -> None:
    for f in space.factors:
        if isinstance(f, CategoricalFactor):
            raise InputError(
                f"factor {f.name!r}: {kind} needs numeric factors (it uses centre and axial "
                f"levels), and this factor is categorical"
            )


def _fractional_factorial(space: FactorSpace, spec: FractionalFactorial) -> np.ndarray:
    _check_two_level(space, "fractional_factorial")
    k = len(space.factors)
    try:
        if spec.generator is not None:
            words = spec.generator.split()
            if len(words) != k:
                raise InputError(
                    f"fractional_factorial.generator {spec.generator!r} has {len(words)} "
                    f"words but the space has {k} factors ({', '.join(space.names)})"
                )
            return pydoe.fracfact(spec.generator)
        if k < 2:
            raise InputError("fractional_factorial.resolution needs at least 2 factors")
        return pydoe.fracfact_by_res(k, spec.resolution)
    except InputError:
        raise
    except ValueError as exc:
        field = "generator" if spec.generator is not None else "resolution"
        raise InputError(f"fractional_factorial.{field}: {exc}") from exc


def _plackett_burman(space: FactorSpace, spec: PlackettBurman) -> np.ndarray:
    _check_two_level(space, "plackett_burman")
    return pydoe.pbdesign(len(space.factors))


def _box_behnken(space: FactorSpace, spec: BoxBehnken) -> np.ndarray:
    check_no_categorical(space, "box_behnken")
    k = len(space.factors)
    if k < 3:
        raise InputError(f"box_behnken needs at least 3 factors, the space has {k}")
    return pydoe.bbdesign(k, center=spec.center_points)


def _central_composite(space: FactorSpace, spec: CentralComposite) -> np.ndarray:
    check_no_categorical(space, "central_composite")
    k = len(space.factors)
    if k < 2:
        raise InputError(f"central_composite needs at least 2 factors, the space has {k}")
    center = spec.center_points
    if center is None:
        center = CCD_CENTER_POINTS.get(k, k + 4)
    if isinstance(center, int):
        center = (math.ceil(center / 2), center // 2)
    return pydoe.ccdesign(k, center=center, alpha=spec.alpha, face=spec.face)


def _latin_hypercube(space: FactorSpace, spec: LatinHypercube) -> np.ndarray:
    unit = pydoe.lhs(
        len(space.factors),
        samples=spec.samples,
        criterion=spec.criterion,
        iterations=spec.iterations,
        seed=spec.seed,
    )
    columns = []
    for j, f in enumerate(space.factors):
        if isinstance(f, CategoricalFactor):
            n = len(f.levels)
            index = np.minimum(np.floor(unit[:, j] * n), n - 1)
            columns.append(_index_to_code(index, n))
        elif isinstance(f, IntegerFactor):
            # One stratum per integer value, so the end levels get their share
            # (rounding a continuous column gives them half of it).
            index = np.minimum(np.floor(unit[:, j] * f.n_levels), f.n_levels - 1)
            columns.append(np.array([f.encode(f.low + int(i)) for i in index]))
        else:
            columns.append(2.0 * unit[:, j] - 1.0)
    return np.column_stack(columns)


def _definitive_screening(space: FactorSpace, spec: DefinitiveScreening) -> np.ndarray:
    return dsd_matrix(space, spec.fake_factors)


def _optimal(space: FactorSpace, spec: Optimal) -> np.ndarray:
    rows, _ = optimal_matrix(
        space,
        spec.runs,
        spec.model,
        spec.criterion,
        spec.constraints,
        spec.levels,
        spec.seed,
        spec.pure_error,
    )
    return rows


_GENERATORS = {
    FullFactorial: _full_factorial,
    FractionalFactorial: _fractional_factorial,
    PlackettBurman: _plackett_burman,
    BoxBehnken: _box_behnken,
    CentralComposite: _central_composite,
    LatinHypercube: _latin_hypercube,
    DefinitiveScreening: _definitive_screening,
    Optimal: _optimal,
}


def _with_center_points(space: FactorSpace, design: DesignSpec, raw: np.ndarray) -> np.ndarray:
    n = getattr(design, "center_points", 0)
    if not isinstance(design, FullFactorial | FractionalFactorial | PlackettBurman) or not n:
        return raw
    categorical = [f.name for f in space.factors if isinstance(f, CategoricalFactor)]
    if categorical:
        raise InputError(
            f"{design.kind}.center_points: factor {categorical[0]!r} is categorical and has "
            "no centre level; use center_points: 0"
        )
    return np.vstack([raw, np.zeros((n, raw.shape[1]))])


def coded_matrix(space: FactorSpace, design: DesignSpec) -> np.ndarray:
    """The coded matrix in standard order (runs x factors, space order), before dedup.

    Centre points of two-level designs and the design's replicates included.
    """
    raw = _GENERATORS[type(design)](space, design)  # type: ignore[operator]
    raw = _with_center_points(space, design, np.asarray(raw, dtype=float))
    return np.tile(raw, (design.replicates, 1))


def design_size(space: FactorSpace, design: DesignSpec) -> int:
    """The design's number of runs (an upper bound), computed without generating it.

    So that a design of a million points is refused at once, not after minutes
    of planning.
    """
    k = len(space.factors)
    if isinstance(design, FoldOver):
        return 2 * design_size(space, design.first)
    if isinstance(design, AugmentOptimal):
        return design_size(space, design.first) + design.runs
    if isinstance(design, AugmentToCCD):
        first = design_size(space, design.first)
        k = len(design.factors) if design.factors else k
        return first + 2 * k + (design.center_points if design.center_points is not None else first)
    if isinstance(design, FullFactorial):
        size = 1
        for factor in space.factors:
            if isinstance(factor, CategoricalFactor):
                size *= len(factor.levels)
            elif isinstance(design.levels, dict):
                size *= design.levels.get(factor.name, 2)
            else:
                size *= design.levels
        runs = size + design.center_points
    elif isinstance(design, LatinHypercube):
        runs = design.samples
    elif isinstance(design, DefinitiveScreening):
        runs = dsd_size(space, design.fake_factors)
    elif isinstance(design, Optimal):
        runs = design.runs
    elif isinstance(design, FractionalFactorial):
        runs = 2**k + design.center_points
    elif isinstance(design, PlackettBurman):
        runs = 4 * (k // 4 + 1) + design.center_points
    elif isinstance(design, BoxBehnken):
        runs = 2 * k * (k - 1) + (design.center_points if design.center_points is not None else k)
    else:
        centre = design.center_points
        if centre is None:
            centre = CCD_CENTER_POINTS.get(k, k + 4)
        runs = 2**k + 2 * k + (centre if isinstance(centre, int) else sum(centre))
    return runs * design.replicates


__all__ = ["CCD_CENTER_POINTS", "check_no_categorical", "coded_matrix", "design_size"]
