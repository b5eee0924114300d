"""Generating designs: single-stage designs, and stages that complete earlier runs.

`generate_design` returns a `Design` (`libs.doe.runs`): real points to run, in
run order, and their codes. A fold-over, an augmentation to a central
composite design or a D-optimal augmentation regenerates the earlier stage(s)
as they ran and adds its runs in a new block.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from libs.doe.augment import augment_optimal
from libs.doe.matrices import check_no_categorical
from libs.doe.names import factor_choices, factor_named
from libs.doe.runs import Design, assemble, shuffle_order, single_stage
from libs.doe.sequential import augment_to_ccd, fold_over
from libs.doe.space import CategoricalFactor, FactorSpace
from libs.doe.specs import AugmentOptimal, AugmentToCCD, DesignSpec, FoldOver
from libs.doe.structure import fraction_structure, roman
from libs.errors import InputError


def _factor_column(space: FactorSpace, design: Design, factor: str) -> str:
    """A factor named by its config path, short name or design letter."""
    found = factor_named(factor, list(space.names), design.letters)
    if found is None:
        raise InputError(
            f"design.factor: {factor!r} is neither a factor nor a factor letter "
            f"({factor_choices(list(space.names), design.letters)})"
        )
    return found


def _stage_blocks(first: Design) -> tuple[int, ...]:
    return first.block or tuple([1] * len(first))


def _fold_over_stage(space: FactorSpace, spec: FoldOver) -> tuple[Design, pd.DataFrame, str]:
    """Stage 1 as it ran and its fold-over; refuses a fold-over that separates nothing."""
    first = single_stage(space, spec.first)
    res = first.resolution
    full = first.regular and res is None
    if full or (res is not None and res >= 5) or (spec.factor is None and res == 4):
        what = "a full factorial" if full else f"resolution {roman(res)}"
        hint = "" if full or res != 4 else " (a fold-over on one factor can: give factor)"
        raise InputError(
            f"design.first: the first stage is {what}: its main effects are already free of "
            f"two-factor interactions, so a full fold-over separates nothing{hint}"
        )
    column = None if spec.factor is None else _factor_column(space, first, spec.factor)
    stage = fold_over(first.coded, column)
    return first, stage.added, stage.description


def _held_codes(space: FactorSpace, active: list[str], hold: dict[str, Any]) -> dict[str, float]:
    """The coded value of each factor not in the surface, in the runs an augmentation adds."""
    unknown = sorted(set(hold) - set(space.names))
    if unknown:
        raise InputError(f"design.hold: {', '.join(unknown)} is not a factor of the sweep")
    clash = sorted(set(hold) & set(active))
    if clash:
        raise InputError(f"design.hold: {', '.join(clash)} is a factor of the surface")
    codes = {}
    for f in space.factors:
        if f.name in active:
            continue
        if f.name in hold:
            codes[f.name] = float(space.encode({**_centre(space), f.name: hold[f.name]})[f.name])
        elif isinstance(f, CategoricalFactor):
            codes[f.name] = -1.0  # its first level
        else:
            codes[f.name] = 0.0
    return codes


def _centre(space: FactorSpace) -> dict[str, Any]:
    return space.decode({n: 0.0 for n in space.names}, True)


def _check_quadratic_estimable(cube: np.ndarray, names: list[str]) -> None:
    """Main effects and two-factor interactions of `names` must be separable in the cube."""
    k = cube.shape[1]
    cols = [np.ones(len(cube)), *(cube[:, j] for j in range(k))]
    cols += [cube[:, a] * cube[:, b] for a in range(k) for b in range(a + 1, k)]
    matrix = np.column_stack(cols)
    if np.linalg.matrix_rank(matrix) < matrix.shape[1]:
        structure = fraction_structure(np.unique(cube, axis=0))
        res = f"resolution {roman(structure.resolution)} " if structure else ""
        raise InputError(
            f"design.first: in {', '.join(names)} the earlier runs are a {res}fraction that "
            "aliases main effects or two-factor interactions, so a quadratic model is not "
            "estimable (it needs a full factorial or resolution V: fold it over first, or "
            "augment fewer factors)"
        )


def _augment_stage(space: FactorSpace, spec: AugmentToCCD) -> tuple[Design, pd.DataFrame, str]:
    """The earlier stage(s) as they ran, and the axial and centre runs of the CCD."""
    first = generate_design(space, spec.first)
    active = list(space.names)
    if spec.factors:
        active = list(dict.fromkeys(_factor_column(space, first, f) for f in spec.factors))
    if len(active) < 2:
        raise InputError("design.factors: a central composite design needs at least 2 factors")
    check_no_categorical(FactorSpace(factors=[space.factor(n) for n in active]), "augment_ccd")
    projected = first.coded[active]
    values = projected.to_numpy(dtype=float)
    cube = values[np.all(np.isclose(np.abs(values), 1.0), axis=1)]
    off = ~(np.all(np.isclose(np.abs(values), 1.0), axis=1) | np.all(np.isclose(values, 0), axis=1))
    if off.any() or not len(cube):
        raise InputError(
            "design.first: the earlier stage is not a two-level design (it has runs off the "
            "cube and centre), so it cannot be augmented to a central composite design"
        )
    _check_quadratic_estimable(cube, active)
    stage = augment_to_ccd(projected, spec.alpha, spec.center_points)
    added = stage.added.copy()
    for name, code in _held_codes(space, active, spec.hold).items():
        added[name] = code
    held = ", ".join(n for n in space.names if n not in active)
    description = stage.description + (f" in {', '.join(active)} ({held} held)" if held else "")
    return first, added[list(space.names)], description


def _optimal_stage(space: FactorSpace, spec: AugmentOptimal) -> tuple[Design, pd.DataFrame, str]:
    """The earlier stage(s) as they ran, and the D-optimal runs that augment them."""
    first = generate_design(space, spec.first)
    active = list(space.names)
    if spec.factors:
        active = list(dict.fromkeys(_factor_column(space, first, f) for f in spec.factors))
    stage = augment_optimal(
        first.coded,
        space,
        spec.runs,
        spec.model,
        blocks=_stage_blocks(first),
        factors=active,
        held=_held_codes(space, active, spec.hold),
        constraints=spec.all_constraints(),
        levels=spec.levels,
        seed=spec.seed,
    )
    return first, stage.added, stage.description


def _next_stage(space: FactorSpace, spec: FoldOver | AugmentToCCD | AugmentOptimal) -> Design:
    """The earlier stage(s) as they ran, then the runs that complete them, in a new block."""
    if isinstance(spec, FoldOver):
        first, added_frame, description = _fold_over_stage(space, spec)
        clip, active = True, first.active
    elif isinstance(spec, AugmentOptimal):
        first, added_frame, description = _optimal_stage(space, spec)
        named = spec.factors and [_factor_column(space, first, f) for f in spec.factors]
        clip, active = True, tuple(dict.fromkeys(named or ()))
    else:
        first, added_frame, description = _augment_stage(space, spec)
        clip = False  # axial runs beyond the faces stay there, as in a circumscribed CCD
        active = tuple(
            (
                spec.factors
                and list(dict.fromkeys(_factor_column(space, first, f) for f in spec.factors))
            )
            or ()
        )
    added = added_frame.to_numpy()
    order = shuffle_order(list(range(len(added))), spec)
    rows = np.vstack([first.coded.to_numpy(), added[order]])
    standard = [*first.standard_order, *(len(first) + i for i in order)]
    earlier = _stage_blocks(first)
    block = (*earlier, *([max(earlier) + 1] * len(added)))
    design = assemble(space, spec, rows, standard, clip=clip, requested=len(rows), block=block)
    stage_no = max(earlier) + 1
    note = (
        f"stage {stage_no}: {description}; the {len(first)} earlier runs are "
        f"block{'s 1-' + str(stage_no - 1) if stage_no > 2 else ' 1'}"
    )
    return replace(design, notes=(note, *first.notes, *design.notes), active=active)


def generate_design(space: FactorSpace, design: DesignSpec) -> Design:
    """Generate `design` over `space`: real points to run (in run order) and their codes."""
    if isinstance(design, FoldOver | AugmentToCCD | AugmentOptimal):
        return _next_stage(space, design)
    return single_stage(space, design)


__all__ = ["generate_design"]
