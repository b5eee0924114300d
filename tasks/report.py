"""The run's HTML report, and the summary artifacts shown in the Prefect UI."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.datasets import Split
from libs.models import ModelAdapter
from libs.plots import (
    bounded_permutation_importance,
    evaluation_figures,
    feature_importance_figure,
    history_figure,
    render_report,
)
from tasks import tracking
from tasks._common import io_task
from tasks.evaluate import Evaluation
from tasks.preprocess import Features


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
) -> str:
    """Metrics table and figures (with permutation importance) as one offline HTML page.

    Models trained in epochs (Keras) add their training history first.
    """
    history = getattr(model, "history", None)
    figures = [("Training history", history_figure(history))] if history else []
    figures += evaluation_figures(
        task_type,  # type: ignore[arg-type]
        split.y_test.to_numpy(),
        evaluation.y_pred,
        evaluation.y_proba,
        evaluation.classes,
    )
    pipeline = model.as_pipeline(features.preprocessor)
    # Bounded, so a wide table cannot stall the run on its report; the note says what ran.
    importance, note = bounded_permutation_importance(
        pipeline, split.x_test, split.y_test, seed=seed
    )
    if importance is not None:
        figures.append(("Permutation importance", feature_importance_figure(importance)))
    meta = {**meta, "permutation importance": note}
    return render_report(title, evaluation.metrics, figures, meta)


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


def summary_markdown(summary: RunSummary) -> str:
    rows = "\n".join(f"| {k} | {v:.4f} |" for k, v in sorted(summary.metrics.items()))
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
    """A markdown artifact with the outcome and a link artifact to the MLflow run."""
    key = "".join(c if c.isalnum() else "-" for c in summary.model_name.lower()).strip("-")
    create_markdown_artifact(
        summary_markdown(summary), key=f"{key}-summary", description="Training run summary"
    )
    create_link_artifact(
        summary.run_url, link_text=f"MLflow run {summary.run_id}", key=f"{key}-mlflow-run"
    )


__all__ = ["RunSummary", "build_report", "publish_report", "publish_summary", "summary_markdown"]
