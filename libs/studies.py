"""A study stage's runs as values: the ranked settings and the design of explicit runs.

Pure records and functions (no tracking): the sweep flow ranks its points
here. The recommendation is in `libs.study_recommendation`, what a stage and
a confirmation return (and print) in `libs.study_results`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from libs.doe.runs import Design, replicate_numbers
from libs.doe.space import FactorSpace
from libs.doe.sweep import PointResult
from libs.errors import InputError


@dataclass(frozen=True)
class BestSetting:
    """The best setting of a stage by its mean over replicated runs, and the run standing
    for it (its first completed run: the model registered or confirmed)."""

    run: PointResult
    mean: float
    runs: int
    indices: tuple[int, ...]


def setting_key(point: Mapping[str, Any]) -> str:
    return json.dumps(dict(point), sort_keys=True, default=str)


def best_setting(results: Sequence[PointResult], maximize: bool) -> BestSetting | None:
    """The setting with the best mean objective over its completed runs; ties go to the
    earlier setting. Replicates of one setting are compared by their mean, never by their
    luckiest run."""
    groups: dict[str, list[PointResult]] = {}
    for r in results:
        if r.ok:
            groups.setdefault(setting_key(r.point), []).append(r)
    if not groups:
        return None
    sign = 1.0 if maximize else -1.0

    def score(runs: list[PointResult]) -> tuple[float, int]:
        mean = sum(float(r.objective or 0.0) for r in runs) / len(runs)
        return sign * mean, -min(r.index for r in runs)

    runs = max(groups.values(), key=score)
    runs = sorted(runs, key=lambda r: r.index)
    mean = sum(float(r.objective or 0.0) for r in runs) / len(runs)
    return BestSetting(runs[0], mean, len(runs), tuple(r.index for r in runs))


def with_seeds(table: pd.DataFrame, seeds: Mapping[int, tuple[int, int]]) -> pd.DataFrame:
    """The results table with each run's split seed and training seed after its factors,
    so a reader sees which runs shared a split."""
    out = table.copy()
    at = list(out.columns).index("status") if "status" in out.columns else len(out.columns)
    points = [int(p) for p in out["point"]]
    out.insert(at, "train seed", [seeds.get(p, (0, 0))[1] for p in points])
    out.insert(at, "split seed", [seeds.get(p, (0, 0))[0] for p in points])
    return out


def response_view(results: Sequence[PointResult], names: Mapping[str, str]) -> list[PointResult]:
    """The results with each response read from its logged name (`r2` from `cv.r2`), so an
    analysis that names responses as the user does sees the cross-validated values."""
    out = []
    for r in results:
        metrics = dict(r.metrics)
        for name, logged in names.items():
            if logged != name:
                value = r.metrics.get(logged)
                if value is None or not math.isfinite(value):
                    metrics.pop(name, None)
                else:
                    metrics[name] = value
        out.append(replace(r, metrics=metrics))
    return out


MODEL_STAGES = ("path", "gp")


def explicit_design(
    space: FactorSpace, kind: str, points: Sequence[Mapping[str, Any]], block: Sequence[int] = ()
) -> Design:
    """A `Design` of given runs (a path, a GP batch with the earlier runs), in that order.

    The points are taken as they are (a path runs beyond the factors' ranges:
    nothing is clipped); each must name every factor of the space. Runs at the
    same setting count as replicates, as in a generated design.
    """
    names = space.names
    rows: list[dict[str, Any]] = []
    for i, point in enumerate(points):
        missing = [n for n in names if n not in point]
        unknown = [n for n in point if n not in names]
        if missing or unknown:
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            raise InputError(f"runs.points[{i}]: {what} (each run names every factor)")
        rows.append({n: point[n] for n in names})
    coded = pd.DataFrame([space.encode(p) for p in rows], columns=names, dtype=float).round(12)
    replicate = replicate_numbers(setting_key(row) for row in rows)
    if block and len(block) != len(rows):
        raise InputError(f"runs.block: {len(block)} values for {len(rows)} runs")
    return Design(
        kind=kind,
        coded=coded,
        points=rows,
        requested_runs=len(rows),
        duplicates_removed=0,
        standard_order=tuple(range(len(rows))),
        replicate=tuple(replicate),
        center_points=int((coded.abs().max(axis=1) < 1e-9).sum()),
        block=tuple(int(b) for b in block),
    )


def fmt_value(value: Any) -> str:
    """A setting's value with the digits that mean something (integers as integers)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return f"{value:.4g}"


def short_name(name: str) -> str:
    """A factor's short name: the last part of its dotted path (`model.params.C` -> `C`)."""
    return name.rsplit(".", 1)[-1]


__all__ = [
    "MODEL_STAGES",
    "BestSetting",
    "best_setting",
    "explicit_design",
    "fmt_value",
    "response_view",
    "setting_key",
    "short_name",
    "with_seeds",
]
