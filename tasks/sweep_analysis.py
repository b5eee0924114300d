"""A sweep's analysis, recommendation and HTML report: pure tasks, no tracking.

The statistics live in `libs.doe` (`analyse_points` -> `libs.doe.analyse`:
alias chains, one effect per chain, ANOVA with pure error and lack of fit or
Lenth's method, canonical analysis) and the report's figures in
`libs.plots.doe_sweep`; these tasks wrap them (`tasks.sweep` logs what they
return). The analysis never fails the sweep: what the completed points cannot
support is a note.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from libs.doe import Design, FactorSpace
from libs.doe.learned import learned
from libs.doe.names import Namer
from libs.doe.recommend import Recommendation
from libs.doe.responses import MultiResponse, ResponseGoal
from libs.doe.responses import analyse_responses as combine_responses
from libs.doe.summary import LEARNED
from libs.doe.sweep import (
    PointResult,
    SweepAnalysis,
    analyse_points,
    results_table,
)
from libs.plots import Table, render_report
from libs.plots.design_evaluation import evaluation_sections
from libs.plots.doe_sweep import (
    factors_table,
    learned_section,
    named,
    report_meta,
    study_figures,
    sweep_figures,
)
from libs.plots.pareto import pareto_figure
from libs.plots.report import KeyValues, ReportHeader
from libs.studies import MODEL_STAGES
from libs.study_recommendation import stage_recommendation


@task(name="analyse-sweep", cache_policy=NO_CACHE)
def analyse_sweep(
    design: Design, space: FactorSpace, results: list[PointResult], maximize: bool
) -> SweepAnalysis:
    """The analysis of the completed points (`libs.doe.sweep.analyse_points`), with what it
    learned first (`libs.doe.learned`; notes marked `LEARNED`, against the earlier stages'
    runs alone when the design has several)."""
    responses = {r.index: float(r.objective) for r in results if r.ok and r.objective is not None}
    if design.kind in MODEL_STAGES:  # a path or a GP batch is no factorial design
        note = f"a {design.kind} stage: no factorial analysis (its runs are not a design)"
        return SweepAnalysis(
            design.kind, len(responses), len(design) - len(responses), None, (note,)
        )
    analysis = analyse_points(design, space, responses, maximize)
    previous = None
    if design.block and len(set(design.block)) > 1 and analysis.result is not None:
        last = max(design.block)
        earlier = {i: v for i, v in responses.items() if design.block[i] != last}
        previous = analyse_points(design, space, earlier, maximize).result
    said = learned(analysis.result, objective_name(results), space, previous)
    return replace(analysis, notes=(*(LEARNED + line for line in said), *analysis.notes))


def objective_name(results: list[PointResult]) -> str:
    """The objective's metric name, read from the points (the metric equal to the
    objective in every completed point), else "the response"."""
    done = [r for r in results if r.ok and r.objective is not None]
    if not done:
        return "the response"
    names = [k for k, v in done[0].metrics.items() if v == done[0].objective]
    for name in sorted(names, key=len):
        if all(r.metrics.get(name) == r.objective for r in done):
            return name.removeprefix("cv.")  # the cross-validated r2 reads as r2
    return "the response"


@task(name="analyse-responses", cache_policy=NO_CACHE)
def analyse_responses(
    design: Design,
    space: FactorSpace,
    results: list[PointResult],
    goals: dict[str, ResponseGoal],
    natural: dict[str, str],
) -> MultiResponse:
    """Each response analysed, then Derringer-Suich desirability over them (`libs.doe`)."""
    return combine_responses(design, space, results, goals, natural)


@task(name="recommend", cache_policy=NO_CACHE)
def recommend_setting(
    design: Design, space: FactorSpace, results: list[PointResult], maximize: bool
) -> tuple[Recommendation | None, str]:
    """The stage's recommendation with its 95% prediction interval (`libs.study_recommendation`)."""
    responses = {r.index: float(r.objective) for r in results if r.ok and r.objective is not None}
    return stage_recommendation(design, space, responses, maximize)


def stage_table(stages: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(stages, columns=["stage", "step", "design", "runs", "sweep id", "run"])


@task(name="build-sweep-report", cache_policy=NO_CACHE)
def build_sweep_report(
    title: str,
    design: Design,
    space: FactorSpace,
    results: list[PointResult],
    analysis: SweepAnalysis,
    metric: str,
    best: PointResult | None,
    meta: dict[str, str],
    multi: MultiResponse | None = None,
    stages: list[dict[str, str]] | None = None,
) -> str:
    """The sweep's report: run details, analysis metrics, figures and tables, one HTML page.

    At the top, after what was learned: the design's evaluation before any training
    (`libs.plots.design_evaluation`, the figures of `--evaluate`) and its correlation map.

    With several responses it adds the desirability table and optimum and a
    Pareto front of the first two; in a study, a table of all its stages.
    """
    figures = sweep_figures(design, space, results, analysis, metric)
    header = report_meta(design, analysis, best, metric, meta, space)
    said = Namer.of(space)
    first = learned_section(analysis, said.text(meta.get("next stage", "")))
    top: list[tuple[str, KeyValues | Table]] = [("What we learned", first)] if first else []
    judged, correlation_map = evaluation_sections(design, space)  # as --evaluate prints it
    top += judged
    factors = Table(factors_table(space), "Short names as used in this report; full config keys.")
    fitted = analysis.best_fitted()
    others = list(multi.goals) if multi is not None and len(multi.goals) > 1 else []
    figures[:0] = study_figures(
        design,
        space,
        results,
        analysis,
        metric,
        fitted[0] if fitted else None,
        others,
        multi.goals if multi is not None and others else None,  # the profiler's D row
    )
    figures[:0] = correlation_map
    if stages:
        figures.insert(0, ("Study stages", Table(stage_table(stages), "One row per stage.")))
    if multi is not None and len(multi.goals) > 1:
        figures += _response_figures(multi)
        for i, line in enumerate(multi.lines(), 1):
            header[f"desirability {i}"] = said.text(line)  # values rounded by range
    table = named(results_table(design, results, metric), said)
    figures.append(("Results", Table(table, "One row per point; click a column to sort.")))
    figures.append(("Factors", factors))
    # effects and p values to 4 significant digits, as the rest of the report
    shown = {k: float(f"{v:.4g}") for k, v in analysis.metrics().items()}
    return render_report(title, shown, figures, header, header=ReportHeader(sections=top))


def _response_figures(multi: MultiResponse) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    table = multi.table
    if multi.pareto_pair is not None and not table.empty:
        x, y = multi.pareto_pair
        chosen = None
        if multi.optimum is not None and multi.optimum.index is not None:
            hits = list(table.index[table["point"] == multi.optimum.index])
            chosen = int(table.index.get_loc(hits[0])) if hits else None
        elif "D" in table:
            chosen = int(table["D"].to_numpy().argmax())
        figure = pareto_figure(
            table[x],
            table[y],
            table["pareto"],
            x_name=x,
            y_name=y,
            labels=list(table["point"]),
            chosen=chosen,
        )
        out.append((f"Pareto front: {y} against {x}", figure))
    out.append(("Desirability", Table(table.round(6), "Derringer-Suich desirability per point.")))
    return out


__all__ = [
    "analyse_responses",
    "analyse_sweep",
    "build_sweep_report",
    "objective_name",
    "recommend_setting",
    "stage_table",
]
