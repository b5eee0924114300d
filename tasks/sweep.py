"""The tasks of a DOE sweep: parent run, point records, analysis, report, artifacts.

The statistics live in `libs.doe` (`analyse_points` -> `libs.doe.analyse`:
alias chains, one effect per chain, ANOVA with pure error and lack of fit or
Lenth's method, canonical analysis) and the report's figures in
`libs.plots.doe_sweep`; these tasks wrap them and log what they return. The
analysis never fails the sweep: what the completed points cannot support is
a note.
"""

from __future__ import annotations

import json
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
    design_tables,
    results_table,
)
from libs.gate import GateDecision, GateSpec, decide
from libs.metrics import greater_is_better
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
from libs.settings import PlatformSettings
from libs.studies import MODEL_STAGES
from libs.study_recommendation import recommendation_dict, stage_recommendation
from tasks import tracking
from tasks._common import io_task
from tasks.artifacts import artifact_key, markdown_artifact
from tasks.sweep_records import reusable_points

# --- tasks -----------------------------------------------------------------------------


def _io_task(name: str) -> Any:
    """The shared I/O task decorator (`tasks._common.io_task`), never cached."""
    return io_task(name, cache_policy=NO_CACHE)


@_io_task("start-sweep")
def start_sweep(
    settings: PlatformSettings,
    *,
    experiment: str,
    artifact_root: str,
    artifact_env: dict[str, str],
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
) -> tracking.RunHandle:
    """The sweep's parent MLflow run, linked to the sweep's flow run."""
    from prefect.runtime import flow_run

    tracking.use_artifact_credentials(artifact_env)
    flow_run_id = str(flow_run.id) if flow_run.id else None
    return tracking.start_sweep_run(
        settings,
        experiment=experiment,
        artifact_root=artifact_root,
        run_name=run_name,
        params=params,
        tags=tags,
        flow_run_id=flow_run_id,
    )


@_io_task("log-design")
def log_design(run: tracking.RunHandle, design: Design, config_json: str) -> None:
    """The design (coded and real runs, its metadata) and the sweep config, as artifacts.

    The metadata (run order and its seed, centre points, replicates, blocks,
    generators, defining relation, resolution) goes to `sweep/design.json` and
    its headline values to `design.*` tags.
    """
    coded, real = design_tables(design)
    tracking.log_table(run, coded, "sweep/design_coded.csv")
    tracking.log_table(run, real, "sweep/design_real.csv")
    tracking.log_text(run, json.dumps(design.metadata(), indent=2), "sweep/design.json")
    tracking.log_text(run, config_json, "sweep/sweep_config.json")
    tracking.log_run_record(run, json.loads(config_json))  # config/ and environment/, as runs do
    tracking.set_tags(run, design.tags())


@_io_task("log-results")
def log_results(run: tracking.RunHandle, table: pd.DataFrame) -> None:
    tracking.log_table(run, table, "sweep/results.csv")


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


@_io_task("log-responses")
def log_responses(run: tracking.RunHandle, multi: MultiResponse) -> None:
    """Per-response analyses and the desirability table, as artifacts and metrics."""
    metrics: dict[str, float] = {}
    for name, analysis in multi.analyses.items():
        if analysis.result is not None:
            tracking.log_text(run, analysis.result.text(), f"sweep/responses/{name}.txt")
    tracking.log_table(run, multi.table, "sweep/desirability.csv")
    if multi.optimum is not None:
        metrics["desirability.optimum"] = multi.optimum.overall
        for name, value in multi.optimum.responses.items():
            metrics[f"desirability.at_optimum.{name}"] = value
    tracking.log_text(run, "\n".join(multi.lines()) + "\n", "sweep/desirability.txt")
    tracking.log_metrics(run, metrics)


def stage_table(stages: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(stages, columns=["stage", "step", "design", "runs", "sweep id", "run"])


@_io_task("log-analysis")
def log_analysis(
    run: tracking.RunHandle, analysis: SweepAnalysis, counts: dict[str, float]
) -> None:
    """Analysis metrics; its tables (aliases, effects, ANOVA, canonical) and text as artifacts."""
    tracking.log_metrics(run, {**analysis.metrics(), **counts})
    result = analysis.result
    if result is not None:
        tracking.set_tags(run, result.tags())
        for name, table in result.tables().items():
            tracking.log_table(run, table, f"sweep/{name}.csv")
        tracking.log_text(run, result.text(), "sweep/analysis.txt")
    if analysis.notes:
        tracking.log_text(run, "\n".join(analysis.notes) + "\n", "sweep/notes.txt")


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


@_io_task("find-reusable-points")
def find_reusable_points(
    settings: PlatformSettings, *, experiment: str, sweep_id: str, earlier: tuple[str, ...] = ()
) -> dict[str, tracking.ChildRun]:
    """The runs the sweep's points may reuse, looked up once before they start."""
    return reusable_points(settings, experiment=experiment, sweep_id=sweep_id, earlier=earlier)


@_io_task("child-run")
def child_run(settings: PlatformSettings, run_id: str) -> tracking.RunHandle:
    """A handle on the best point's training run, to register its model."""
    return tracking.run_handle(settings, run_id)


@_io_task("log-point")
def log_point(run: tracking.RunHandle, metrics: dict[str, float]) -> None:
    """A lean point's last stage: its metrics, then its run ends FINISHED (one task run)."""
    tracking.log_metrics(run, metrics)
    tracking.end_run(run, "FINISHED")


@_io_task("tag-point-model")
def tag_point_model(settings: PlatformSettings, run_id: str, model_uri: str) -> None:
    """Mark a completed lean point (the best) with the model now logged into its run."""
    tracking.set_tags(tracking.run_handle(settings, run_id), {"sweep.model_uri": model_uri})


@task(name="recommend", cache_policy=NO_CACHE)
def recommend_setting(
    design: Design, space: FactorSpace, results: list[PointResult], maximize: bool
) -> tuple[Recommendation | None, str]:
    """The stage's recommendation with its 95% prediction interval (`libs.study_recommendation`)."""
    responses = {r.index: float(r.objective) for r in results if r.ok and r.objective is not None}
    return stage_recommendation(design, space, responses, maximize)


@_io_task("log-recommendation")
def log_recommendation(run: tracking.RunHandle, recommendation: Recommendation) -> None:
    """`sweep/recommendation.json` and its prediction as metrics of the parent run."""
    tracking.log_text(
        run,
        json.dumps(recommendation_dict(recommendation), indent=2, default=str),
        "sweep/recommendation.json",
    )
    low, high = recommendation.interval
    tracking.log_metrics(
        run,
        {
            "recommendation.predicted": recommendation.predicted,
            "recommendation.low": low,
            "recommendation.high": high,
        },
    )


@_io_task("gate-check")
def gate_check(
    settings: PlatformSettings,
    run_id: str,
    *,
    name: str,
    gate: GateSpec,
    task_type: str,
    metrics: dict[str, float],
) -> GateDecision | None:
    """What the gate would decide for this run's model now, registering nothing; None when
    this run's model already is the champion (registering it again adds no version).

    A study registers a model only when it would beat the champion (at most
    one version per stage): the version the gate would keep aside is not made.
    `register_model` decides again, under the registry lock, when it registers.
    """
    run = tracking.run_handle(settings, run_id)
    metric = gate.metric_for(task_type)
    current = tracking.champion(run, name, metric)
    if current is not None and current.run_id == run_id:
        return None
    value = metrics.get(metric)
    return decide(
        gate,
        metric=metric,
        greater_is_better=greater_is_better(metric),
        candidate=float("nan") if value is None else float(value),
        champion=current.value if current else None,
        champion_version=current.version if current else None,
    )


@_io_task("tag-run")
def tag_run(settings: PlatformSettings, run_id: str, tags: dict[str, str]) -> None:
    """Tags on a finished run (a confirmation run names the stage it confirms)."""
    tracking.set_tags(tracking.run_handle(settings, run_id), tags)


@_io_task("log-confirmation")
def log_confirmation(
    settings: PlatformSettings,
    run_id: str,
    *,
    metric: str,
    predicted: float,
    interval: tuple[float, float],
    scores: list[float],
    inside: int,
    verdict: str,
) -> None:
    """The confirmation on the stage's parent run: `confirm.*` tags and metrics, and the
    picture of the runs against the interval (`confirm/confirmation.html`) when it has one."""
    import math

    from libs.plots.doe import confirmation_figure

    run = tracking.run_handle(settings, run_id)
    tracking.set_tags(run, {"confirm.verdict": verdict[:5000], "confirm.runs": str(len(scores))})
    if scores:
        tracking.log_metrics(
            run, {"confirm.mean": sum(scores) / len(scores), "confirm.inside": float(inside)}
        )
    if scores and all(math.isfinite(v) for v in (predicted, *interval)):
        figure = confirmation_figure(predicted, interval, scores, metric)
        html = render_report(
            "Confirmation", {}, [("Confirmation runs against the prediction interval", figure)]
        )
        tracking.log_text(run, html, "confirm/confirmation.html")


@_io_task("finish-sweep")
def finish_sweep(run: tracking.RunHandle, tags: dict[str, str]) -> None:
    tracking.set_tags(run, tags)
    tracking.end_run(run, "FINISHED")


@io_task("publish-sweep-summary")
def publish_sweep_summary(markdown: str, key: str) -> None:
    """The sweep's outcome as a markdown artifact in the Prefect UI."""
    slug = artifact_key(key)[:60]
    markdown_artifact(markdown, key=f"{slug}-sweep", description="DOE sweep summary")


__all__ = [
    "analyse_responses",
    "analyse_sweep",
    "build_sweep_report",
    "child_run",
    "find_reusable_points",
    "finish_sweep",
    "gate_check",
    "log_analysis",
    "log_confirmation",
    "log_design",
    "log_point",
    "log_recommendation",
    "log_responses",
    "log_results",
    "publish_sweep_summary",
    "recommend_setting",
    "start_sweep",
    "tag_point_model",
    "tag_run",
]
