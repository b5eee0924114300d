"""Several responses of one sweep: per-response goals, desirability, optimum, Pareto front.

Each response is analysed on its own (`analyse_points`); this module combines
them with Derringer and Suich's (1980) desirability: every response maps to
d in [0, 1] by its goal and bounds, and the overall D is their weighted
geometric mean (Myers, Montgomery and Anderson-Cook, *Response Surface
Methodology*, 4th ed., section 6.6). The optimum of D is searched on the
fitted surfaces when every response has one (a grid over the design's
region), and otherwise among the runs that completed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from libs.doe.canonical import Region
from libs.doe.desirability import Desirability, overall_desirability, pareto_front
from libs.doe.names import Namer
from libs.doe.space import FactorSpace
from libs.doe.sweep import SweepAnalysis
from libs.errors import InputError

# Responses measured by the wall clock: they move with the machine's load (a busy machine
# made the best-R2 run take 2.7 s instead of 0.2 s, so its d and D fell to 0). Model size
# does not; prediction latency would not if measured as a median of repeated predictions.
NOISY = {
    "train_seconds": "wall-clock training time",
    "predict_ms_per_row": "wall-clock prediction time of one pass",
}
STEADY = ("model_size_bytes",)
GRID_POINTS = 20_000  # points of the coded region searched for the best overall desirability
DEFAULT_MARGIN = 0.5  # default limits: the observed range widened by this share of it


class ResponseGoal(BaseModel):
    """One response of a sweep and its goal in the overall desirability.

    `metric` is any metric the training run logs (the task's metric set and
    the cost metrics `train_seconds`, `predict_ms_per_row`,
    `model_size_bytes`). `goal` defaults to the metric's own direction.
    `low`/`high` are the acceptability limits (d = 0 beyond the unacceptable
    one, d = 1 beyond the ideal one); give them in the config. Not given, they
    default to the range the completed runs reached, widened by
    `DEFAULT_MARGIN` (half that range) on the unacceptable side(s): the best
    run scores d = 1 and the worst d = 1/3, not 0, so one response's worst run
    does not zero the overall desirability by construction.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    goal: Literal["maximize", "minimize", "target"] | None = None
    low: float | None = Field(
        None,
        description=(
            "Lower acceptability limit. Default: the lowest observed value, less half the "
            "observed range when low values are unacceptable (maximize, target)."
        ),
    )
    high: float | None = Field(
        None,
        description=(
            "Upper acceptability limit. Default: the highest observed value, plus half the "
            "observed range when high values are unacceptable (minimize, target)."
        ),
    )
    target: float | None = None
    weight: PositiveFloat = Field(1.0, description="Importance in the geometric mean.")
    shape: PositiveFloat = Field(1.0, description="Derringer-Suich exponent (below a target).")
    shape_high: PositiveFloat = Field(1.0, description="Exponent above a target.")

    @model_validator(mode="after")
    def _consistent(self) -> ResponseGoal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InputError(
                f"responses: {self.metric}: low ({self.low}) must be below high ({self.high})"
            )
        if self.goal == "target" and self.target is None:
            raise InputError(f"responses: {self.metric}: goal 'target' needs a target value")
        if self.goal != "target" and self.target is not None:
            raise InputError(f"responses: {self.metric}: target is only for goal 'target'")
        if self.target is not None and (
            (self.low is not None and self.target < self.low)
            or (self.high is not None and self.target > self.high)
        ):
            raise InputError(
                f"responses: {self.metric}: target ({self.target}) lies outside its limits "
                f"(low {self.low}, high {self.high}); no run could reach d = 1"
            )
        return self

    def desirability(self, observed: Sequence[float], natural: str) -> Desirability:
        """The resolved Desirability: limits not given are the observed range, widened by
        `DEFAULT_MARGIN` of it on the unacceptable side(s) (see the class docstring)."""
        finite = [float(v) for v in observed if v is not None and math.isfinite(v)]
        goal = self.goal or natural
        target = self.target
        seen_lo = min(finite) if finite else 0.0
        seen_hi = max(finite) if finite else 1.0
        if goal == "target" and target is not None:
            seen_lo, seen_hi = min(seen_lo, target), max(seen_hi, target)
        width = seen_hi - seen_lo or (abs(seen_hi) or 1.0)
        margin = DEFAULT_MARGIN * width
        lo = self.low
        if lo is None:
            lo = seen_lo - (0.0 if goal == "minimize" else margin)
        hi = self.high
        if hi is None:
            hi = seen_hi + (0.0 if goal == "maximize" else margin)
        if not lo < hi:  # every run gave the same value: any value there is as good
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        if goal == "target" and target is not None:
            lo, hi = min(lo, target), max(hi, target)
        try:
            return Desirability(
                goal=goal,  # type: ignore[arg-type]
                low=lo,
                high=hi,
                target=target,
                shape=self.shape,
                shape_high=self.shape_high,
                weight=self.weight,
            )
        except InputError as exc:
            raise InputError(f"responses: {self.metric}: {exc}") from None


@dataclass(frozen=True)
class DesirabilityOptimum:
    """Where the overall desirability is highest, and what each response is there."""

    source: str  # "fitted surfaces" | "completed runs"
    coded: dict[str, float]
    natural: dict[str, Any]
    overall: float
    responses: dict[str, float]
    index: int | None = None  # the run, when found among the completed runs


@dataclass(frozen=True)
class MultiResponse:
    """Each response's analysis, the desirability of every run, the optimum and the front."""

    analyses: dict[str, SweepAnalysis]
    goals: dict[str, Desirability]
    table: pd.DataFrame  # point, each response, d.<response>, D, pareto
    optimum: DesirabilityOptimum | None
    pareto_pair: tuple[str, str] | None  # the two responses a 2-D Pareto plot shows
    notes: tuple[str, ...] = ()
    pareto_responses: tuple[str, ...] = ()  # every response the `pareto` column is over

    def lines(self) -> list[str]:
        """The outcome in words: goals, then the optimum."""
        out = []
        for name, d in self.goals.items():
            aim = f"target {d.target:.4g}" if d.goal == "target" else d.goal
            noisy = f" (noisy: {NOISY[name]})" if name in NOISY else ""
            out.append(f"{name}{noisy}: {aim} in [{d.low:.4g}, {d.high:.4g}], weight {d.weight:g}")
        if self.optimum is not None:
            o = self.optimum
            where = Namer.of(list(o.natural)).point(o.natural)
            values = ", ".join(f"{k}={v:.4g}" for k, v in o.responses.items())
            run = f" (run #{o.index})" if o.index is not None else ""
            out.append(f"desirability optimum D={o.overall:.3f} on the {o.source}{run}: {where}")
            out.append(f"  responses there: {values}")
        return out


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _grid(region: Region, k: int) -> np.ndarray:
    per_axis = max(3, min(41, round(GRID_POINTS ** (1.0 / k))))
    axes = [np.linspace(region.low[j], region.high[j], per_axis) for j in range(k)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, k)
    inside = np.sqrt((mesh**2).sum(axis=1)) <= region.radius + 1e-9
    return mesh[inside]


def _surface_optimum(
    analyses: Mapping[str, SweepAnalysis],
    goals: Mapping[str, Desirability],
    coded: pd.DataFrame,
    space: FactorSpace,
) -> DesirabilityOptimum | None:
    """Highest D over the region on the fitted second-order surfaces (all responses)."""
    results = [a.result for a in analyses.values()]
    if not results or any(r is None or r._surface is None for r in results):
        return None
    factors = results[0].factors  # type: ignore[union-attr]
    if any(r.factors != factors for r in results):  # type: ignore[union-attr]
        return None
    x = coded[factors].to_numpy(dtype=float)
    grid = pd.DataFrame(_grid(Region.of(x), len(factors)), columns=factors)
    predicted = {name: a.result.predict(grid) for name, a in analyses.items()}  # type: ignore[union-attr]
    overall = overall_desirability(predicted, goals)
    best = int(np.argmax(overall))
    point = {f: float(grid.iloc[best][f]) for f in factors}
    natural = {f: space.factor(f).decode(v) for f, v in point.items()}
    return DesirabilityOptimum(
        "fitted surfaces",
        point,
        natural,
        float(overall[best]),
        {n: float(v[best]) for n, v in predicted.items()},
    )


def combine_responses(
    coded: pd.DataFrame,
    points: Sequence[Mapping[str, Any]],
    space: FactorSpace,
    values: Mapping[str, Mapping[int, float]],
    goals: Mapping[str, ResponseGoal],
    natural: Mapping[str, str],
    analyses: Mapping[str, SweepAnalysis],
) -> MultiResponse:
    """The desirability of every completed run and the optimum, over several responses.

    `values[response][point index]` are the observed responses; `natural`
    maps each response to its default goal ("maximize" or "minimize").
    """
    if not goals:
        raise InputError("responses: at least one response is needed")
    index = sorted(set.intersection(*(set(v) for v in values.values())) if values else set())
    resolved = {
        name: goal.desirability([values[name][i] for i in index], natural[name])
        for name, goal in goals.items()
    }
    table = pd.DataFrame({"point": index})
    for name in goals:
        table[name] = [values[name][i] for i in index]
    notes: list[str] = noisy_notes(list(goals))
    optimum: DesirabilityOptimum | None = None
    if index:
        for name, d in resolved.items():
            table[f"d.{name}"] = d(table[name].to_numpy(dtype=float))
        table["D"] = overall_desirability({n: table[n].to_numpy() for n in goals}, resolved)
        optimum = _surface_optimum(analyses, resolved, coded.iloc[index], space)
        if optimum is None:
            notes.append(
                "desirability optimum taken among the completed runs (not every response "
                "has a fitted second-order surface)"
            )
            row = table.loc[int(table["D"].to_numpy().argmax())]
            i = int(row["point"])
            optimum = DesirabilityOptimum(
                "completed runs",
                {k: float(v) for k, v in coded.iloc[i].items()},
                dict(points[i]),
                float(row["D"]),
                {n: float(row[n]) for n in goals},
                i,
            )
    pair: tuple[str, str] | None = None
    names = list(goals)
    if len(names) >= 2 and index:
        pair = (names[0], names[1])
        table["pareto"] = pareto_front(*_pareto_columns(table, names, resolved))
        if len(names) > 2:
            notes.append(
                f"the Pareto front is over all {len(names)} responses; the plot shows "
                f"{pair[0]} against {pair[1]}"
            )
    if optimum is not None and optimum.overall == 0:
        notes.append(
            "every candidate has a desirability of 0: some response is outside its bounds "
            "everywhere; widen the bounds"
        )
    return MultiResponse(
        dict(analyses),
        resolved,
        table,
        optimum,
        pair,
        tuple(notes),
        tuple(names) if pair else (),
    )


def noisy_notes(responses: Sequence[str]) -> list[str]:
    """A note per response that the machine's load moves (`NOISY`), naming a steady one."""
    out = []
    for name in responses:
        if name in NOISY:
            instead = ", ".join(STEADY)
            out.append(
                f"{name} is {NOISY[name]}: it moves with the machine's load, so a busy moment "
                f"can sink a good run's desirability; {instead} does not (prefer it as the cost "
                "response, or give this one wide limits)"
            )
    return out


def _pareto_columns(
    table: pd.DataFrame, names: Sequence[str], goals: Mapping[str, Desirability]
) -> tuple[np.ndarray, list[bool]]:
    """Every response as a column to rank: a target response by its distance to the target."""
    columns, maximize = [], []
    for name in names:
        d = goals[name]
        values = table[name].to_numpy(dtype=float)
        if d.goal == "target" and d.target is not None:
            columns.append(np.abs(values - d.target))
            maximize.append(False)
        else:
            columns.append(values)
            maximize.append(d.goal != "minimize")
    return np.column_stack(columns), maximize


def analyse_responses(
    design: Any,
    space: FactorSpace,
    results: Sequence[Any],
    goals: Mapping[str, ResponseGoal],
    natural: Mapping[str, str],
) -> MultiResponse:
    """Each response of the completed points analysed on its own, then combined.

    `results` are the sweep's `PointResult`s (their `metrics` hold every
    logged metric, the cost metrics included).
    """
    from libs.doe.sweep import analyse_points

    values: dict[str, dict[int, float]] = {}
    for name in goals:
        values[name] = {
            r.index: float(r.metrics[name])
            for r in results
            if r.ok and name in r.metrics and math.isfinite(float(r.metrics[name]))
        }
    analyses = {}
    for name in goals:
        try:
            analyses[name] = analyse_points(
                design, space, values[name], natural[name] != "minimize"
            )
        except Exception as exc:  # one response's analysis never sinks the others or the sweep
            note = f"analysis of {name} failed: {type(exc).__name__}: {exc}"[:300]
            analyses[name] = SweepAnalysis(design.kind, len(values[name]), 0, notes=(note,))
    coded = design.coded[list(design.active)] if design.active else design.coded
    return combine_responses(coded, design.points, space, values, goals, natural, analyses)


__all__ = [
    "DesirabilityOptimum",
    "MultiResponse",
    "ResponseGoal",
    "analyse_responses",
    "combine_responses",
]
