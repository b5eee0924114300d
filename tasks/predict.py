"""Batch scoring with a registered model: score in chunks, measure drift, log and report.

The model and the input are loaded and checked first, by `tasks.predict_input`.
"""

from __future__ import annotations

import time

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.drift import DriftAccumulator, DriftReference, DriftSpec, build_reference, model_inputs
from libs.progress import counting_bar
from libs.scoring import (
    BatchSummary,
    ScoreResult,
    batch_metrics,
    csv_dtypes,
    drift_report_html,
    stamp_predictions,
    summary_markdown,
)
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import io_task
from tasks.artifacts import artifact_key, link_artifact, markdown_artifact
from tasks.predict_input import InputProbe, LoadedModel, options_for


@io_task("drift-reference", cache_policy=NO_CACHE)
def drift_reference(
    loaded: LoadedModel, probe: InputProbe, spec: DriftSpec, storage: Storage
) -> DriftReference | None:
    """Bucket the training snapshot's columns the model reads (as its recorded feature spec
    resolves them: not a dropped id; a date column as a date); None if it has no snapshot.

    None too when the version's run was deleted and purged (`mlflow gc`): the model
    still loads (a logged model of its own), but the snapshot's address went with the run.
    """
    try:
        source = tracking.training_data(loaded.ref)
    except Exception as exc:  # MLflow's "not found": this layer does not import MLflow
        if str(getattr(exc, "error_code", "")) != "RESOURCE_DOES_NOT_EXIST":
            raise
        return None
    if not source.snapshot_uri:
        return None
    frame = storage_io.read_table(source.snapshot_uri, options_for(storage, source.snapshot_uri))
    wanted = [c.name for c in loaded.columns] if loaded.columns else list(probe.sample.columns)
    inputs = model_inputs(source.features, frame, source.target)
    columns = [
        str(c)
        for c in wanted
        if c in frame.columns
        and c in probe.sample.columns
        and c != source.target
        and (inputs is None or c in inputs.columns)
    ]
    return build_reference(frame, columns, spec, dates=inputs.dates if inputs else ())


@io_task("start-inference-run", cache_policy=NO_CACHE)
def start_inference_run(
    settings: PlatformSettings,
    storage: Storage,
    *,
    experiment: str,
    loaded: LoadedModel,
    probe: InputProbe,
    params: dict[str, str],
    tags: dict[str, str],
) -> tracking.RunHandle:
    """One MLflow run per batch, linked to the model version and the Prefect flow run."""
    from prefect.runtime import flow_run

    flow_run_id = str(flow_run.id) if flow_run.id else None
    all_tags = {
        **tags,
        "model.name": loaded.ref.name,
        "model.version": loaded.ref.version,
        "model.run_id": loaded.ref.run_id,
        "model.uri": loaded.ref.model_uri,
        "input.uri": probe.uri,
        "input.sha256": probe.digest,
    }
    all_tags.update(tracking.link_tags(flow_run_id, flow_run_name=str(flow_run.name)))
    tracking.use_artifact_credentials(storage.artifact_env())
    run = tracking.start_run(
        settings,
        experiment=experiment,
        artifact_root=settings.artifact_root_for(storage.root),
        run_name=f"{loaded.ref.name}-v{loaded.ref.version}",
        params=params,
        tags=all_tags,
        flow_run_id=flow_run_id,
    )
    name = probe.uri.rstrip("/").split("/")[-1]
    tracking.log_input_source(
        run, probe.sample, name=name, source=probe.uri, digest=probe.digest, rows=probe.rows
    )
    return run


@io_task("score", cache_policy=NO_CACHE)
def score(
    loaded: LoadedModel,
    probe: InputProbe,
    output_uri: str,
    storage: Storage,
    *,
    chunk_rows: int,
    reference: DriftReference | None,
    show_progress: bool = False,
) -> ScoreResult:
    """Stream the input through the model into the output, counting drift on the way.

    One chunk is in memory at a time; the output appears only once every chunk
    is written (a failure leaves none).
    """
    drift = DriftAccumulator(reference) if reference is not None else None
    started = time.perf_counter()
    scored = 0

    with counting_bar("scoring", probe.rows, enabled=show_progress) as advance:

        def score_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
            nonlocal scored
            where = f"{probe.uri} (rows {scored + 1}-{scored + len(chunk)})"
            chunk = loaded.conform(chunk, where)
            if drift is not None:
                drift.update(chunk)
            out = stamp_predictions(chunk, loaded.predict(chunk), loaded.identity)
            scored += len(chunk)
            advance(len(chunk))
            return out

        rows = storage_io.transform_table(
            probe.uri,
            output_uri,
            score_chunk,
            chunk_rows=chunk_rows,
            source_options=options_for(storage, probe.uri),
            target_options=options_for(storage, output_uri),
            dtype=csv_dtypes(loaded.columns or []),
            metadata={f"mlops.{k}": v for k, v in loaded.identity.items()},
        )
    return ScoreResult(
        rows=rows,
        seconds=time.perf_counter() - started,
        output_uri=output_uri,
        drift=drift.result() if drift is not None else None,
    )


@task(name="drift-report", cache_policy=NO_CACHE)
def drift_report(title: str, result: ScoreResult, meta: dict[str, str]) -> str:
    """The drift table and figures as one offline HTML page (or a note that none was made)."""
    return drift_report_html(title, result, meta)


@io_task("log-batch", cache_policy=NO_CACHE)
def log_batch(
    run: tracking.RunHandle, result: ScoreResult, html: str, storage: Storage | None = None
) -> str:
    """Metrics, the drift table and report, and the output's location, on the MLflow run; with
    `storage`, the report also beside the data (as the training report is). Returns the
    report's URI ("" without storage)."""
    tracking.log_metrics(run, batch_metrics(result))
    tags = {"output.uri": result.output_uri}
    uri = ""
    if storage is not None:
        uri = storage_io.join_key(storage.root, f"reports/{run.run_id}/drift_report.html")
        storage_io.write_bytes(html.encode("utf-8"), uri, storage.options)
        tags["drift.report_uri"] = uri
    if result.drift is not None:
        tags["drift.flagged"] = ",".join(result.drift.flagged) or "none"
        tracking.log_text(run, result.drift.table.to_csv(index=False), "drift/drift.csv")
    tracking.set_tags(run, tags)
    tracking.log_text(run, html, "drift/drift_report.html")
    return uri


@io_task("publish-batch-summary")
def publish_batch_summary(summary: BatchSummary) -> None:
    """A markdown artifact with the batch's outcome and a link artifact to its MLflow run."""
    key = artifact_key(summary.model_name)
    markdown_artifact(
        summary_markdown(summary), key=f"{key}-batch-summary", description="Batch scoring summary"
    )
    link_artifact(
        summary.run_url,
        text=f"MLflow run {summary.run_id}",
        key=f"{key}-batch-mlflow-run",
        description=f"The MLflow run of this batch: input, drift report, {summary.model_name}",
    )


__all__ = [
    "drift_reference",
    "drift_report",
    "log_batch",
    "publish_batch_summary",
    "score",
    "start_inference_run",
]
