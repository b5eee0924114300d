"""Generating designs: a coded matrix from pyDOE, mapped to real config values.

`generate_design` returns a `Design` holding both views of the same runs,
row for row: `points` (real values to train with) and `coded` (the values the
analysis fits on). `coded` is recomputed from the real values, so a rounded
integer or a clipped axial point is analysed where it actually ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydoe

from libs.doe.space import CategoricalFactor, FactorSpace
from libs.doe.specs import (
    BoxBehnken,
    CentralComposite,
    DesignSpec,
    FractionalFactorial,
    FullFactorial,
    LatinHypercube,
    PlackettBurman,
)
from libs.errors import InputError


@dataclass(frozen=True)
class Design:
    """The runs of a design.

    `points[i]` (factor name -> real value) and `coded.iloc[i]` describe the
    same run. `requested_runs` is pyDOE's row count (the textbook size);
    `duplicates_removed` says how many of those were dropped as repeats.
    """

    kind: str
    coded: pd.DataFrame
    points: list[dict[str, Any]]
    requested_runs: int
    duplicates_removed: int

    def __len__(self) -> int:
        return len(self.points)

    @property
    def frame(self) -> pd.DataFrame:
        """The real points as a table, one column per factor."""
        return pd.DataFrame(self.points, columns=list(self.coded.columns))


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


def _check_no_categorical(space: FactorSpace, kind: str) -> None:
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
    _check_no_categorical(space, "box_behnken")
    k = len(space.factors)
    if k < 3:
        raise InputError(f"box_behnken needs at least 3 factors, the space has {k}")
    return pydoe.bbdesign(k, center=spec.center_points)


def _central_composite(space: FactorSpace, spec: CentralComposite) -> np.ndarray:
    _check_no_categorical(space, "central_composite")
    k = len(space.factors)
    if k < 2:
        raise InputError(f"central_composite needs at least 2 factors, the space has {k}")
    return pydoe.ccdesign(k, center=spec.center_points, alpha=spec.alpha, face=spec.face)


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
        else:
            columns.append(2.0 * unit[:, j] - 1.0)
    return np.column_stack(columns)


_GENERATORS = {
    FullFactorial: _full_factorial,
    FractionalFactorial: _fractional_factorial,
    PlackettBurman: _plackett_burman,
    BoxBehnken: _box_behnken,
    CentralComposite: _central_composite,
    LatinHypercube: _latin_hypercube,
}


def coded_matrix(space: FactorSpace, design: DesignSpec) -> np.ndarray:
    """The raw coded matrix (runs x factors, space order) before mapping and dedup."""
    return _GENERATORS[type(design)](space, design)  # type: ignore[operator]


def _key(point: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    # The type is part of the key so that level 1 and level True stay distinct.
    return tuple((type(v).__name__, v) for v in point.values())


def generate_design(space: FactorSpace, design: DesignSpec) -> Design:
    """Generate `design` over `space`: real points to run and their coded values."""
    raw = coded_matrix(space, design)
    names = space.names
    points = [space.decode(dict(zip(names, row, strict=True))) for row in raw]
    removed = 0
    if design.drop_duplicates:
        seen: set[tuple[tuple[str, Any], ...]] = set()
        unique = []
        for point in points:
            key = _key(point)
            if key not in seen:
                seen.add(key)
                unique.append(point)
        removed = len(points) - len(unique)
        points = unique
    # Rounded so that a log-scale round trip reads 1.0, not 0.9999999999999998.
    coded = pd.DataFrame([space.encode(p) for p in points], columns=names, dtype=float).round(12)
    return Design(
        kind=design.kind,
        coded=coded,
        points=points,
        requested_runs=int(raw.shape[0]),
        duplicates_removed=removed,
    )


__all__ = ["Design", "coded_matrix", "generate_design"]
