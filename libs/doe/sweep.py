"""A sweep's points and their analysis: plain records and functions, no tracking.

`analyse_points` runs `libs.doe.analyse` on the points that completed: the
design's coded rows, the objective values and the factor space. Anything the
completed points cannot support becomes a note; the analysis never fails the
sweep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from libs.doe.dsd import select_dsd_model
from libs.doe.result import DoeAnalysis
from libs.doe.runs import Design
from libs.doe.space import FactorSpace
from libs.doe.study import analyse
from libs.errors import InputError

TOP_EFFECTS = 5


@dataclass(frozen=True)
class PointResult:
    """The outcome of one design point: completed, reused from an earlier sweep, or failed."""

    index: int
    point: dict[str, Any]
    status: str  # "completed" | "reused" | "failed"
    metrics: dict[str, float] = field(default_factory=dict)
    objective: float | None = None
    run_id: str | None = None
    model_uri: str = ""
    task_type: str = ""
    data_digest: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed" and self.objective is not None


def objective_value(metrics: Mapping[str, float], metric: str) -> float | None:
    """The objective metric when it is a finite number, else None."""
    value = metrics.get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def best_point(results: Sequence[PointResult], maximize: bool) -> PointResult | None:
    """The point with the best objective; ties go to the earlier point."""
    done = [r for r in results if r.ok]
    if not done:
        return None
    sign = 1.0 if maximize else -1.0
    return max(done, key=lambda r: (sign * float(r.objective or 0.0), -r.index))


def results_table(design: Design, results: Sequence[PointResult], metric: str) -> pd.DataFrame:
    """One row per point: factors, status, objective, every metric, child run id, error."""
    by_index = {r.index: r for r in results}
    metric_names = sorted({m for r in results for m in r.metrics})
    rows = []
    for index, point in enumerate(design.points):
        r = by_index.get(index)
        row: dict[str, Any] = {"point": index, **point}
        row["status"] = r.status if r else "missing"
        row[f"objective.{metric}"] = r.objective if r else None
        for name in metric_names:
            row[f"metric.{name}"] = r.metrics.get(name) if r else None
        row["run_id"] = (r.run_id or "") if r else ""
        row["seconds"] = round(r.seconds, 2) if r else None
        row["error"] = r.error if r else ""
        rows.append(row)
    return pd.DataFrame(rows)


def design_tables(design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The design matrix, coded and real, each with a leading point column."""
    coded = design.coded.copy()
    coded.insert(0, "point", range(len(coded)))
    real = design.frame
    real.insert(0, "point", range(len(real)))
    return coded, real


@dataclass(frozen=True)
class EarlierSweep:
    """A finished sweep read back from the tracking store, to continue its study."""

    run_id: str
    sweep_id: str
    run_name: str
    experiment: str
    config_json: str
    results: pd.DataFrame
    tags: dict[str, str] = field(default_factory=dict)

    def responses(self, metric: str) -> dict[int, float]:
        """Point index -> value of `metric` (objective or logged metric), completed points only."""
        table = self.results
        column = metric if metric in table else f"metric.{metric}"
        if column not in table:
            column = f"objective.{metric}"
        if column not in table:
            return {}
        ok = table[table["status"].isin(["completed", "reused"])]
        values = pd.to_numeric(ok[column], errors="coerce")
        return {
            int(i): float(v) for i, v in zip(ok["point"], values, strict=True) if math.isfinite(v)
        }


@dataclass(frozen=True)
class SweepAnalysis:
    """What the completed points say about the factors (`result` is None when nothing could)."""

    kind: str
    used: int
    failed: int
    result: DoeAnalysis | None = None
    notes: tuple[str, ...] = ()

    def top_effects(self, n: int = TOP_EFFECTS) -> list[tuple[str, float]]:
        """The largest effects (one per alias chain) by size."""
        return self.result.top_effects(n) if self.result is not None else []

    def metrics(self) -> dict[str, float]:
        return self.result.metrics() if self.result is not None else {}

    def best_fitted(self) -> tuple[dict[str, Any], float, str] | None:
        """(natural point, fitted response, what it is) of a fitted surface, if any.

        What it is: "optimum" only for a maximum (minimum) inside the region;
        else the best point inside the region, saying why it is not an optimum.
        None under significant lack of fit: no fitted point is claimed then.
        """
        r = self.result
        if r is None or r.canonical is None or not r.optimum_claimed or not r.natural.get("best"):
            return None
        c = r.canonical
        point = dict(r.natural["best"] or {})
        if c.is_optimum:
            return point, c.best_response, f"optimum ({c.nature} inside the region)"
        edge = ", on the boundary" if c.best_on_boundary else ""
        nature = f"{c.ridge} ridge" if c.ridge else c.nature
        return point, c.best_response, f"best point inside the region ({nature}{edge})"

    def significance(self) -> str:
        """Where significance comes from, in one line."""
        r = self.result
        if r is None:
            return ""
        names = dict(zip(r.effects["term"], r.effects["name"], strict=True))
        if r.lenth is not None:
            active = ", ".join(names[t] for t in r.lenth.active) or "none"
            return f"Lenth's method on {r.lenth.m} effects (ME {r.lenth.me:.3g}); active: {active}"
        if r.anova is not None:
            p = r.anova.table["PR(>F)"]
            terms = [names[t] for t in r.effects["term"] if t in p.index and p[t] < 0.05]
            return (
                f"ANOVA ({r.anova.residual_df} residual df); p < 0.05: {', '.join(terms) or 'none'}"
            )
        return "none: no residual df and too few effects for Lenth's method"

    def r_squared(self) -> float | None:
        r = self.result
        return r.anova.r_squared if r is not None and r.anova is not None else None


def analyse_points(
    design: Design, space: FactorSpace, responses: Mapping[int, float], maximize: bool
) -> SweepAnalysis:
    """Analyse the completed points (index -> objective) of `design`."""
    used = sorted(i for i, v in responses.items() if v is not None and math.isfinite(v))
    failed = len(design) - len(used)
    notes: list[str] = []
    if failed:
        notes.append(f"{failed} of {len(design)} points failed; analysed the {len(used)} others")
    coded = design.coded.iloc[used].reset_index(drop=True)
    if design.active:  # a surface in the active factors: the others are held or noise
        coded = coded[list(design.active)]
    y = np.array([responses[i] for i in used], dtype=float)
    constant = [c for c in coded.columns if coded[c].nunique() < 2]
    if constant:
        notes.append(f"not analysed (one level among completed points): {', '.join(constant)}")
        coded = coded.drop(columns=constant)
    if len(used) < 2 or coded.shape[1] == 0:
        notes.append("too few completed points or varying factors to analyse")
        return SweepAnalysis(design.kind, len(used), failed, notes=tuple(notes))
    if design.kind == "definitive_screening":
        notes.append(_dsd_note(coded, y, failed))
    try:
        block = [design.block[i] for i in used] if design.block else None
        result = analyse(coded, y, space, maximize=maximize, block=block)
    except InputError as exc:
        notes.append(f"analysis: {exc}")
        return SweepAnalysis(design.kind, len(used), failed, notes=tuple(notes))
    return SweepAnalysis(design.kind, len(used), failed, result, tuple(notes + list(result.notes)))


def _dsd_note(coded: pd.DataFrame, y: np.ndarray, failed: int) -> str:
    """A definitive screening design's effective model, by its own two-stage selection."""
    head = "definitive screening, two-stage selection (Jones & Nachtsheim 2017)"
    if failed:
        return f"{head}: not made, {failed} failed point(s) broke its fold-over pairs"
    try:
        chosen = select_dsd_model(coded.to_numpy(dtype=float), y, list(coded.columns))
    except InputError as exc:
        return f"{head}: not made ({exc})"
    second = [term.replace("*", ":") for term in chosen.second_order]
    return (
        f"{head}: active main effects {', '.join(chosen.main_effects) or 'none'}; "
        f"second-order terms {', '.join(second) or 'none'} "
        f"({chosen.error_df} error df for the main effects)"
    )


__all__ = [
    "TOP_EFFECTS",
    "EarlierSweep",
    "PointResult",
    "SweepAnalysis",
    "analyse_points",
    "best_point",
    "design_tables",
    "objective_value",
    "results_table",
]
