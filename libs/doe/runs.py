"""A design's runs: the `Design` record, and a single-stage design assembled from its matrix.

`Design` holds both views of the same runs, row for row: `points` (real
values to train with) and `coded` (the values the analysis fits on). `coded`
is recomputed from the real values, so a rounded integer or an axial point is
analysed where it actually ran.

Rows are in run order (shuffled with the design's seed unless
`run_order: standard`); `standard_order[i]` is row i's place in the textbook
order. Centre points and replicates are kept: they are what the analysis
takes pure error, curvature and lack of fit from.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from libs.doe.aliasing import factor_letters
from libs.doe.matrices import coded_matrix
from libs.doe.optimal import pure_error_note
from libs.doe.space import FactorSpace, IntegerFactor
from libs.doe.specs import CentralComposite, DesignSpec, Optimal
from libs.doe.structure import FractionStructure, fraction_structure, roman


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


def replicate_numbers(keys: Iterable[Hashable]) -> list[int]:
    """Each run's replicate number: how many earlier runs have the same setting (key)."""
    seen: dict[Hashable, int] = {}
    numbers = []
    for key in keys:
        numbers.append(seen.get(key, 0))
        seen[key] = numbers[-1] + 1
    return numbers


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


def shuffle_order(order: list[int], spec: DesignSpec) -> list[int]:
    if spec.run_order != "random":
        return order
    return [order[i] for i in np.random.default_rng(spec.seed).permutation(len(order))]


def assemble(
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
    replicate = replicate_numbers(_key(point) for point in points)
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


def single_stage(space: FactorSpace, spec: DesignSpec) -> Design:
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
    order = shuffle_order(order, spec)
    design = assemble(
        space, spec, raw[order], order, clip=clip, requested=int(raw.shape[0]), removed=removed
    )
    if isinstance(spec, Optimal):  # says whether the runs give pure error
        note = pure_error_note(design.coded, space, spec.model)
        design = replace(design, notes=(*design.notes, note))
    return design


__all__ = ["Design", "assemble", "shuffle_order", "single_stage"]
