"""The run's HTML report, and the summary artifacts shown in the Prefect UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.datasets import Split, class_names
from libs.models import ModelAdapter
from libs.plots import (
    bounded_permutation_importance,
    evaluation_figures,
    feature_importance_figure,
    history_figure,
    render_report,
)
from libs.plots.card import CardFacts, data_profile, evaluation_header
from libs.plots.report import model_importance_figure
from libs.shown import number
from tasks import tracking
from tasks._common import io_task
from tasks.artifacts import artifact_key, link_artifact, markdown_artifact
from tasks.evaluate import Evaluation
from tasks.preprocess import Features
from tasks.register import Registration


def _own_importance(model: ModelAdapter, features: Features) -> tuple[str, Any] | None:
    """The model's own importances on the model-ready features, when it has them."""
    importances = getattr(model, "importances", None)
    found = importances() if callable(importances) else None
    if found is None or len(found[0]) != len(features.names):
        return None
    values, attribute = found
    if attribute == "coef_":
        kind, title = "mean |coefficient| (scaled features)", "Model coefficients"
    else:
        kind, title = "the model's feature_importances_", "Model feature importance"
    return title, model_importance_figure(features.names, list(values), kind)


def _named(values: Any, names: dict[Any, str] | None) -> Any:
    """Labels shown by their class names (a bijection: curves and counts are unchanged)."""
    if not names or values is None:
        return values
    return np.asarray([names.get(v, str(v)) for v in np.asarray(values).tolist()], dtype=object)


def _duration() -> str:
    """Time since the flow run started (the report is built last, so about the whole run)."""
    from prefect.runtime import flow_run

    if flow_run.id is None:
        return ""
    start = flow_run.scheduled_start_time  # when the run was created, for a run started here
    seconds = (datetime.now(UTC) - start).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


@task(name="build-report", cache_policy=NO_CACHE)
def build_report(
    title: str,
    model: ModelAdapter,
    features: Features,
    split: Split,
    evaluation: Evaluation,
    task_type: str,
    meta: dict[str, str],
    seed: int,
    *,
    registration: Registration | None = None,
    config: dict[str, str] | None = None,
    data_source: str = "",
) -> str:
    """The evaluation card, metrics with intervals, figures (with permutation importance).

    One offline HTML page. The card says which version this is, whether it is
    the champion and why (the gate against the champion), the config and the
    data profile; classes of a bundled dataset show by name. Models trained in
    epochs (Keras) add their training history first.
    """
    names = class_names(data_source) if task_type == "classification" else None
    history = getattr(model, "history", None)
    figures: list[tuple[str, Any]] = (
        [("Training history", history_figure(history))] if history else []
    )
    figures += evaluation_figures(
        task_type,  # type: ignore[arg-type]
        _named(split.y_test.to_numpy(), names),
        _named(evaluation.y_pred, names),
        evaluation.y_proba,
        _named(evaluation.classes, names) if evaluation.classes is not None else None,
    )
    pipeline = model.as_pipeline(features.preprocessor)
    # Bounded, so a wide table cannot stall the run on its report; the note says what ran.
    importance, note = bounded_permutation_importance(
        pipeline, split.x_test, split.y_test, seed=seed
    )
    if importance is not None:
        figures.append(("Permutation importance", feature_importance_figure(importance)))
    own = _own_importance(model, features)
    if own is not None:
        figures.append(own)
    model_name = meta.get("model", title)
    run_meta = dict(meta)
    if registration is not None:
        run_meta["registered version"] = f"{registration.name} version {registration.version}"
    duration = _duration()
    if duration:
        run_meta["duration"] = duration
    commit = tracking.git_commit()
    run_meta["commit"] = commit or "not in a git checkout"
    run_meta["permutation importance"] = note
    card = CardFacts(
        model_name=model_name,
        version=registration.version if registration else None,
        promoted=bool(registration and registration.promoted),
        gate_reason=registration.reason if registration else "",
        gate=registration.decision if registration else None,
        config=config or {},
    )
    profile = data_profile(
        split.x_train, split.x_test, split.y_train, split.y_test, task_type, names
    )
    header = evaluation_header(card, profile)
    return render_report(
        title, evaluation.metrics, figures, run_meta, header=header, intervals=evaluation.intervals
    )


@io_task("publish-report", cache_policy=NO_CACHE)
def publish_report(run: tracking.RunHandle, html: str, storage: Storage) -> str:
    """Store the report beside the data and log it to the MLflow run; returns its URI."""
    uri = storage_io.join_key(storage.root, f"reports/{run.run_id}/report.html")
    storage_io.write_bytes(html.encode("utf-8"), uri, storage.options)
    tracking.log_text(run, html, "report/report.html")
    return uri


@dataclass(frozen=True)
class RunSummary:
    """What a person needs to find the run's results."""

    run_id: str
    run_url: str
    experiment: str
    model_name: str
    version: str | None
    champion: bool
    gate_reason: str
    metrics: dict[str, float]
    report_uri: str
    ui_command: str
    model_uri: str = ""
    primary_metric: str = ""  # the gate's metric, shown first; empty: none named


def summary_markdown(summary: RunSummary) -> str:
    rows = "\n".join(f"| {k} | {number(v)} |" for k, v in sorted(summary.metrics.items()))
    version = f"version {summary.version}" if summary.version else "not registered"
    return (
        f"# {summary.model_name}: {version}\n\n"
        f"**Champion:** {'yes' if summary.champion else 'no'} ({summary.gate_reason})\n\n"
        f"**MLflow run:** [{summary.run_id}]({summary.run_url}) in experiment "
        f"`{summary.experiment}`\n\n"
        f"**Report:** `{summary.report_uri}` (also under the run's artifacts, "
        f"`report/report.html`)\n\n"
        f"| metric | value |\n|---|---|\n{rows}\n\n"
        f"Open the MLflow UI: `{summary.ui_command}`\n"
    )


@io_task("publish-summary")
def publish_summary(summary: RunSummary) -> None:
    """A markdown artifact with the outcome and a link artifact to the MLflow run.

    Both on the flow run, where the Prefect UI shows them first.
    """
    key = artifact_key(summary.model_name)
    version = f"version {summary.version}" if summary.version else "not registered"
    markdown_artifact(
        summary_markdown(summary),
        key=f"{key}-summary",
        description=f"Training run summary: {summary.model_name} {version}",
    )
    link_artifact(
        summary.run_url,
        text=f"MLflow run {summary.run_id}",
        key=f"{key}-mlflow-run",
        description=(
            f"The MLflow run of {summary.model_name} ({version}): params, metrics with "
            "intervals, the evaluation report and the logged model"
        ),
    )


__all__ = ["RunSummary", "build_report", "publish_report", "publish_summary", "summary_markdown"]
