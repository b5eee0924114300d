"""What a scoring batch produced, as values: its result, metrics, drift report and summary."""

from __future__ import annotations

from dataclasses import dataclass

from libs.drift import DriftResult


@dataclass(frozen=True)
class ScoreResult:
    """What one batch produced: rows, time taken, the output and the input's drift."""

    rows: int
    seconds: float
    output_uri: str
    drift: DriftResult | None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class BatchSummary:
    """What a person needs after a batch: where the output went and what made it."""

    rows: int
    output_uri: str
    model_name: str
    model_version: str
    model_run_id: str
    run_id: str
    run_url: str
    experiment: str
    seconds: float
    flagged: list[str] | None
    ui_command: str
    drift_report: str = ""  # the drift report's URI (also the run's drift/drift_report.html)

    @property
    def drift_line(self) -> str:
        if self.flagged is None:
            return "not measured (no training snapshot recorded)"
        return (
            f"{len(self.flagged)} flagged ({', '.join(self.flagged)})" if self.flagged else "none"
        )


def drift_report_html(title: str, result: ScoreResult, meta: dict[str, str]) -> str:
    """The drift table and figures as one offline HTML page (or a note that none was made)."""
    from libs.plots import drift_figures, render_report  # plotting libraries: only when used

    metrics = {"rows": float(result.rows), "rows_per_second": result.rows_per_second}
    if result.drift is None:
        meta = {**meta, "drift": "no training snapshot recorded for this model"}
        return render_report(title, metrics, [], meta)
    drift = result.drift
    metrics["features_flagged"] = float(len(drift.flagged))
    for row in drift.table.itertuples():
        metrics[f"psi {row.feature}"] = float(row.psi)
    meta = {
        **meta,
        "psi threshold": f"{drift.spec.psi_threshold:g}",
        "flagged": ", ".join(drift.flagged) or "none",
    }
    figures = drift_figures(drift.table, drift.histograms, drift.spec.psi_threshold)
    return render_report(title, metrics, figures, meta)


def batch_metrics(result: ScoreResult) -> dict[str, float]:
    """Run metrics: volume, speed and one PSI (and KS) per feature."""
    metrics = {
        "rows": float(result.rows),
        "duration_s": result.seconds,
        "rows_per_second": result.rows_per_second,
    }
    if result.drift is not None:
        metrics["drift.features_flagged"] = float(len(result.drift.flagged))
        for row in result.drift.table.itertuples():
            name = _metric_key(str(row.feature))
            metrics[f"drift.psi.{name}"] = float(row.psi)
            if row.kind != "categorical":
                metrics[f"drift.ks.{name}"] = float(row.ks)
    return metrics


def _metric_key(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in text)


def summary_markdown(summary: BatchSummary) -> str:
    """The batch's outcome as a markdown table with a link to its MLflow run."""
    speed = summary.rows / summary.seconds if summary.seconds > 0 else 0.0
    report = summary.drift_report or "drift/drift_report.html"
    return (
        f"# Batch scored: {summary.model_name} version {summary.model_version}\n\n"
        f"| | |\n|---|---|\n"
        f"| rows scored | {summary.rows} |\n"
        f"| output | `{summary.output_uri}` |\n"
        f"| model run | `{summary.model_run_id}` |\n"
        f"| duration | {summary.seconds:.2f} s ({speed:,.0f} rows/s) |\n"
        f"| input drift | {summary.drift_line} |\n\n"
        f"**MLflow run:** [{summary.run_id}]({summary.run_url}) in experiment "
        f"`{summary.experiment}`; drift report: `{report}` (also under the run's artifacts, "
        "`drift/drift_report.html`).\n\n"
        f"Open the MLflow UI: `{summary.ui_command}`\n"
    )


__all__ = [
    "BatchSummary",
    "ScoreResult",
    "batch_metrics",
    "drift_report_html",
    "summary_markdown",
]
