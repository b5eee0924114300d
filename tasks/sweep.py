"""The tracking tasks of a DOE sweep: parent run, point records, what the analysis
returned, the gate, artifacts.

The analysis, recommendation and report themselves are the pure tasks of
`tasks.sweep_analysis`; these tasks log what they return.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from prefect.cache_policies import NO_CACHE

from libs.doe import Design
from libs.doe.recommend import Recommendation
from libs.doe.responses import MultiResponse
from libs.doe.sweep import SweepAnalysis, design_tables
from libs.gate import GateDecision, GateSpec, decide
from libs.metrics import greater_is_better
from libs.plots import render_report
from libs.settings import PlatformSettings
from libs.study_recommendation import recommendation_dict
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
    "start_sweep",
    "tag_point_model",
    "tag_run",
]
