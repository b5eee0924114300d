"""Generating designs: a coded matrix from pyDOE, mapped to real config values.

`generate_design` returns a `Design` holding both views of the same runs,
row for row: `points` (real values to train with) and `coded` (the values the
analysis fits on). `coded` is recomputed from the real values, so a rounded
integer or an axial point is analysed where it actually ran.

Rows are in run order (shuffled with the design's seed unless
`run_order: standard`); `standard_order[i]` is row i's place in the textbook
order. Centre points and replicates are kept: they are what the analysis
takes pure error, curvature and lack of fit from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pydoe

from libs.doe.aliasing import factor_letters
from libs.doe.augment import augment_optimal
from libs.doe.dsd import dsd_matrix, dsd_size
from libs.doe.names import factor_choices, factor_named
from libs.doe.optimal import optimal_matrix, pure_error_note
from libs.doe.sequential import augment_to_ccd, fold_over
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
from libs.doe.structure import FractionStructure, fraction_structure, roman
from libs.errors import InputError

# Uniform-precision centre points of a rotatable CCD on a full 2^k cube
# (Montgomery, Design and Analysis of Experiments, 9th ed., Table 11.11 after
# Box and Hunter 1957): 13 runs for 2 factors, 20 for 3, 31 for 4.
CCD_CENTER_POINTS = {2: 5, 3: 6, 4: 7, 5: 10, 6: 15}


@dataclass(frozen=True)
class Design:
    """The runs of a design, in run order.

    `points[i]` (factor name -> real value) and `coded.iloc[i]` describe the
    same run. `requested_runs` is the textbook size (pyDOE's rows, centre
    points and replicates included); `duplicates_removed` says how many were
    dropped when `drop_duplicates` is set. `replicate[i]` counts the earlier
    runs at the same point (0 for the first), `standard_order[i]` is the run's
    place in the textbook order. For two-level designs, `generators`,
    `defining_relation` and `resolution` describe the fraction (`resolution`
    None: a full factorial, or a non-regular design such as a 12-run
    Plackett-Burman); `notes` say where the design departs from the textbook.
    """

    kind: str
    coded: pd.DataFrame
    points: list[dict[str, Any]]
    requested_runs: int
    duplicates_removed: int
    standard_order: tuple[int, ...] = ()
    replicate: tuple[int, ...] = ()
    center_points: int = 0
    replicates: int = 1
    run_order: str = "standard"
    seed: int = 0
    letters: dict[str, str] = field(default_factory=dict)
    generators: tuple[str, ...] = ()
    defining_relation: str = ""
    resolution: int | None = None
    regular: bool | None = None
    notes: tuple[str, ...] = ()
    block: tuple[int, ...] = ()
    active: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.points)

    @property
    def frame(self) -> pd.DataFrame:
        """The real points as a table, one column per factor."""
        return pd.DataFrame(self.points, columns=list(self.coded.columns))

    def metadata(self) -> dict[str, Any]:
        """What a report or a tracking store records about the design."""
        return {
            "kind": self.kind,
            "runs": len(self),
            "requested_runs": self.requested_runs,
            "duplicates_removed": self.duplicates_removed,
            "center_points": self.center_points,
            "replicates": self.replicates,
            "run_order": self.run_order,
            "seed": self.seed,
            "letters": dict(self.letters),
            "generators": list(self.generators),
            "defining_relation": self.defining_relation,
            "resolution": roman(self.resolution) if self.regular else None,
            "regular": self.regular,
            "standard_order": list(self.standard_order),
            "block": list(self.block),
            "analysed_factors": list(self.active) or list(self.coded.columns),
            "notes": list(self.notes),
        }

    def tags(self) -> dict[str, str]:
        """Headline values of `metadata()` as string tags (`design.*`)."""
        meta = self.metadata()
        tags = {
            "design.runs": str(meta["runs"]),
            "design.center_points": str(meta["center_points"]),
            "design.replicates": str(meta["replicates"]),
            "design.run_order": f"{meta['run_order']} (seed {meta['seed']})",
            "design.generators": ", ".join(meta["generators"]) or "none",
        }
        if meta["defining_relation"]:
            tags["design.defining_relation"] = meta["defining_relation"][:5000]
        if meta["resolution"]:
            tags["design.resolution"] = meta["resolution"]
        if self.block:
            tags["design.blocks"] = str(len(set(self.block)))
        return tags


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


def _key(point: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    # The type is part of the key so that level 1 and level True stay distinct.
    return tuple((type(v).__name__, v) for v in point.values())


def _axial_notes(space: FactorSpace, raw: np.ndarray, coded: pd.DataFrame) -> list[str]:
    """Say where rounding an integer factor moved axial points onto (or inside) the faces."""
    notes = []
    for j, f in enumerate(space.factors):
        if not isinstance(f, IntegerFactor):
            continue
        beyond = np.abs(raw[:, j]) > 1 + 1e-9
        if beyond.any() and (np.abs(coded.iloc[:, j].to_numpy()[beyond]) <= 1 + 1e-9).any():
            notes.append(
                f"factor {f.name!r}: its axial points round onto the factorial levels "
                f"({f.low}..{f.high} has too few integers), so the design is not rotatable "
                "in it; widen the range or use face: faced"
            )
    return notes


def _shuffle(order: list[int], spec: DesignSpec) -> list[int]:
    if spec.run_order != "random":
        return order
    return [order[i] for i in np.random.default_rng(spec.seed).permutation(len(order))]


def _assemble(
    space: FactorSpace,
    spec: DesignSpec,
    rows: np.ndarray,
    standard_order: list[int],
    *,
    clip: bool,
    requested: int,
    removed: int = 0,
    block: tuple[int, ...] = (),
) -> Design:
    """A `Design` from coded rows already in run order."""
    names = space.names
    points = [space.decode(dict(zip(names, row, strict=True)), clip) for row in rows]
    # Rounded so that a log-scale round trip reads 1.0, not 0.9999999999999998.
    coded = pd.DataFrame([space.encode(p) for p in points], columns=names, dtype=float).round(12)
    replicate, counts = [], {}  # type: ignore[var-annotated]
    for point in points:
        key = _key(point)
        replicate.append(counts.get(key, 0))
        counts[key] = counts.get(key, 0) + 1
    structure: FractionStructure | None = fraction_structure(coded.to_numpy())
    notes = _axial_notes(space, rows, coded) if not clip else []
    if structure is not None and not structure.regular:
        notes.append(
            "non-regular two-level design: main effects are partially aliased with "
            "two-factor interactions (see the alias correlations)"
        )
    return Design(
        kind=spec.kind,
        coded=coded,
        points=points,
        requested_runs=requested,
        duplicates_removed=removed,
        standard_order=tuple(standard_order),
        replicate=tuple(replicate),
        center_points=int((coded.abs().max(axis=1) < 1e-9).sum()),
        replicates=spec.replicates,
        run_order=spec.run_order,
        seed=spec.seed,
        letters=factor_letters(names),
        generators=structure.generators if structure else (),
        defining_relation=structure.defining_relation if structure and structure.regular else "",
        resolution=structure.resolution if structure else None,
        regular=structure.regular if structure else None,
        notes=tuple(notes),
        block=block,
    )


def _single_stage(space: FactorSpace, spec: DesignSpec) -> Design:
    raw = coded_matrix(space, spec)
    clip = not (isinstance(spec, CentralComposite) and spec.face == "circumscribed")
    order = list(range(len(raw)))
    removed = 0
    if spec.drop_duplicates:
        seen: set[tuple[tuple[str, Any], ...]] = set()
        kept = []
        for i, row in enumerate(raw):
            key = _key(space.decode(dict(zip(space.names, row, strict=True)), clip))
            if key not in seen:
                seen.add(key)
                kept.append(i)
        removed, order = len(raw) - len(kept), kept
    order = _shuffle(order, spec)
    design = _assemble(
        space, spec, raw[order], order, clip=clip, requested=int(raw.shape[0]), removed=removed
    )
    if isinstance(spec, Optimal):  # says whether the runs give pure error
        note = pure_error_note(design.coded, space, spec.model)
        design = replace(design, notes=(*design.notes, note))
    return design


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
    first = _single_stage(space, spec.first)
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
    _check_no_categorical(FactorSpace(factors=[space.factor(n) for n in active]), "augment_ccd")
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
    order = _shuffle(list(range(len(added))), spec)
    rows = np.vstack([first.coded.to_numpy(), added[order]])
    standard = [*first.standard_order, *(len(first) + i for i in order)]
    earlier = _stage_blocks(first)
    block = (*earlier, *([max(earlier) + 1] * len(added)))
    design = _assemble(space, spec, rows, standard, clip=clip, requested=len(rows), block=block)
    stage_no = max(earlier) + 1
    note = (
        f"stage {stage_no}: {description}; the {len(first)} earlier runs are "
        f"block{'s 1-' + str(stage_no - 1) if stage_no > 2 else ' 1'}"
    )
    return replace(design, notes=(note, *first.notes, *design.notes), active=active)


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


def generate_design(space: FactorSpace, design: DesignSpec) -> Design:
    """Generate `design` over `space`: real points to run (in run order) and their codes."""
    if isinstance(design, FoldOver | AugmentToCCD | AugmentOptimal):
        return _next_stage(space, design)
    return _single_stage(space, design)


__all__ = ["CCD_CENTER_POINTS", "Design", "coded_matrix", "design_size", "generate_design"]
