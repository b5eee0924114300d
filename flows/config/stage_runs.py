"""The runs of a path or GP stage, from the completed runs of the stages before it.

A path's runs lie along the path of steepest ascent of a first-order stage
(`libs.doe.path`); a GP batch reuses every completed run of the study (each
training run once) and adds the proposals of `libs.doe.gp`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from flows.config.sweep import SweepConfig, SweepPlan
from libs.doe import IntegerFactor
from libs.doe.gp import propose_gp
from libs.doe.path import steepest_ascent_path
from libs.doe.sweep import EarlierSweep, PointResult
from libs.errors import InputError
from libs.studies import MODEL_STAGES, best_setting
from libs.study_recommendation import stage_recommendation

TWO_LEVEL = ("full_factorial", "fractional_factorial", "plackett_burman")
# Designs a first-order path is taken from (a fold-over is two fractions merged).
FIRST_ORDER = (*TWO_LEVEL, "fold_over")


def completed(plan: SweepPlan, values: Mapping[int, float]) -> list[int]:
    return sorted(i for i, v in values.items() if i < len(plan.design) and math.isfinite(v))


def coded_runs(
    plan: SweepPlan, values: Mapping[int, float]
) -> tuple[pd.DataFrame, list[float], list[int] | None]:
    """The completed runs of a stage: coded rows, responses and stage blocks (if several)."""
    used = completed(plan, values)
    coded = plan.design.coded.iloc[used].reset_index(drop=True)
    block = [plan.design.block[i] for i in used] if plan.design.block else None
    if block is not None and len(set(block)) < 2:
        block = None
    return coded, [float(values[i]) for i in used], block


def best_levels(
    config: SweepConfig, plan: SweepPlan, values: Mapping[int, float]
) -> dict[str, Any]:
    """Every factor at the level the stage found best: its recommendation, else its best run."""
    recommendation, _ = stage_recommendation(
        plan.design, config.space, values, config.objective.maximize
    )
    if recommendation is not None:
        return dict(recommendation.settings)
    results = [
        PointResult(i, plan.design.points[i], "completed", objective=values[i])
        for i in completed(plan, values)
    ]
    best = best_setting(results, config.objective.maximize)
    return dict(best.run.point) if best else {}


def path_runs(
    config: SweepConfig, plan: SweepPlan, values: Mapping[int, float], steps: int, stage: int
) -> tuple[dict[str, Any], str]:
    """The `runs` of a path stage: single runs along the path of steepest ascent."""
    sweep = plan.digest[:12]
    kind = plan.design.kind
    if kind not in FIRST_ORDER:
        what = "a path stage" if kind in MODEL_STAGES else f"a {kind} design"
        raise InputError(
            f"--path: sweep {sweep} is {what}; the path of steepest ascent comes from a "
            f"first-order (two-level) design ({', '.join(FIRST_ORDER)})"
        )
    coded, y, block = coded_runs(plan, values)
    try:
        path = steepest_ascent_path(
            coded, y, config.space, maximize=config.objective.maximize, steps=steps, block=block
        )
    except InputError as exc:
        raise InputError(f"--path: sweep {sweep}: {exc}") from None
    points = [dict(p) for p in path.settings]
    runs = {"kind": "path", "points": points, "block": [stage] * len(points), "new": len(points)}
    moved = ", ".join(path.factors)
    stopped = f"; {path.stopped}" if path.stopped else ""
    region = f"; {path.region_note()}" if path.region_note() else ""
    return runs, (
        f"{len(points)} runs along the path in {moved} ({path.significance}{stopped}{region})"
    )


def study_runs(
    config: SweepConfig,
    plan: SweepPlan,
    values: Mapping[int, float],
    earlier: EarlierSweep | None,
    history: Sequence[EarlierSweep],
) -> tuple[list[dict[str, Any]], list[float], list[int]]:
    """Every completed run of the study: the earlier stages' (a --next design or a path is
    not nested in the stage after it) and this stage's, each training run once (by its
    MLflow run id: a reused run appears in every stage that nests it)."""
    names = config.space.names
    response = plan.response(config.objective.metric)
    seen: set[str] = set()
    points: list[dict[str, Any]] = []
    y: list[float] = []
    blocks: list[int] = []

    def add(point: Mapping[str, Any], value: float, run_id: str, block: int) -> None:
        key = run_id or f"{sorted(point.items())}={value}"
        if key in seen or any(n not in point for n in names):
            return
        seen.add(key)
        points.append({n: point[n] for n in names})
        y.append(value)
        blocks.append(block)

    for number, old in enumerate(history, 1):
        table = old.results
        got = old.responses(response)
        if not got:
            continue
        for _, row in table[table["point"].isin(list(got))].iterrows():
            point = {n: _plain(config, n, row[n]) for n in names if n in row}
            add(point, got[int(row["point"])], _run_ids(table).get(int(row["point"]), ""), number)
    ids = _run_ids(earlier.results) if earlier is not None else {}
    for i in completed(plan, values):
        block = plan.design.block[i] if plan.design.block else len(history) + 1
        add(plan.design.points[i], float(values[i]), ids.get(i, ""), block)
    return points, y, blocks


def _run_ids(table: pd.DataFrame) -> dict[int, str]:
    """Point -> its MLflow run id ("" when none was logged)."""
    if "run_id" not in table:
        return {}
    return {
        int(p): (r if isinstance(r, str) else "")
        for p, r in zip(table["point"], table["run_id"], strict=True)
    }


def _plain(config: SweepConfig, name: str, value: Any) -> Any:
    """A value read back from the results CSV as the factor trains it (an integer factor's
    value as an int, so a reused run keeps its config digest)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(config.space.factor(name), IntegerFactor) and isinstance(value, float):
        return round(value)
    return value


def gp_runs(
    config: SweepConfig,
    plan: SweepPlan,
    values: Mapping[int, float],
    n: int,
    stage: int,
    earlier: EarlierSweep | None = None,
    history: Sequence[EarlierSweep] = (),
) -> tuple[dict[str, Any], str]:
    """The `runs` of a GP stage: every completed run of the study so far (reused) and `n`
    proposals. `history`: the study's stages before `earlier` (their runs count too)."""
    earlier_points, y, blocks = study_runs(config, plan, values, earlier, history)
    used = list(range(len(y)))
    if len(used) < 3:
        raise InputError(
            f"--next --model gp: sweep {plan.digest[:12]} has {len(used)} completed runs; "
            "a Gaussian process needs at least 3"
        )
    try:
        proposals = propose_gp(
            earlier_points, y, config.space, config.objective.maximize, n=n, seed=config.design.seed
        )
    except InputError as exc:
        raise InputError(f"--next --model gp: {exc}") from None
    if not proposals:
        raise InputError(
            f"--next --model gp: sweep {plan.digest[:12]} has tried every setting of its space"
        )
    new = [dict(p.settings) for p in proposals]
    runs = {
        "kind": "gp",
        "points": earlier_points + new,
        "block": blocks + [stage] * len(new),
        "new": len(new),
    }
    top = max(p.expected_improvement for p in proposals)
    return runs, (
        f"{len(new)} runs by expected improvement (largest {top:.3g}) from a Gaussian process "
        f"fitted to the {len(used)} runs so far"
    )


__all__ = [
    "FIRST_ORDER",
    "TWO_LEVEL",
    "best_levels",
    "coded_runs",
    "completed",
    "gp_runs",
    "path_runs",
    "study_runs",
]
