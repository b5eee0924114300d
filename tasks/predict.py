"""Batch scoring with a registered model: resolve, check the input, score in chunks, report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs import io as storage_io
from libs.drift import DriftAccumulator, DriftReference, DriftSpec, build_reference, model_inputs
from libs.errors import InputError
from libs.io import table_format
from libs.progress import counting_bar
from libs.scoring import (
    BatchSummary,
    ColumnSpec,
    ScoreResult,
    batch_metrics,
    conform_to_signature,
    csv_dtypes,
    drift_report_html,
    stamp_predictions,
    summary_markdown,
)
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import io_task
from tasks.artifacts import artifact_key, link_artifact, markdown_artifact

# Rows read to check the input against the signature before any run or output exists.
PROBE_ROWS = 1_000
# Rows a chunk of the whole-input check holds (one pass before the run, memory bounded).
SCAN_ROWS = 50_000


def options_for(storage: Storage, uri: str) -> dict[str, Any] | None:
    """The storage block's fsspec options for s3:// URIs, none for local paths."""
    return storage.options if storage.is_remote and uri.startswith("s3://") else None


@dataclass(frozen=True)
class LoadedModel:
    """A registry version, its pyfunc model and its named input columns (None: unchecked)."""

    ref: tracking.ModelVersionRef
    model: Any
    columns: list[ColumnSpec] | None

    @property
    def identity(self) -> dict[str, str]:
        """The columns (and Parquet metadata) that say which model made a prediction."""
        return {
            "model_name": self.ref.name,
            "model_version": self.ref.version,
            "model_run_id": self.ref.run_id,
        }

    def conform(self, chunk: pd.DataFrame, source: str) -> pd.DataFrame:
        if self.columns is None:
            return chunk
        return conform_to_signature(chunk, self.columns, source)

    def predict(self, chunk: pd.DataFrame) -> Any:
        if self.columns is None:
            return self.model.predict(chunk)
        present = [c.name for c in self.columns if c.name in chunk.columns]
        return self.model.predict(chunk[present])


@io_task("load-model", cache_policy=NO_CACHE)
def load_model(
    settings: PlatformSettings, name: str, alias: str | None, version: str | None
) -> LoadedModel:
    """Resolve `name@alias` or `name/version` in the registry and load it as pyfunc."""
    ref = tracking.resolve_model_version(settings, name, alias=alias, version=version)
    model = tracking.load_pyfunc_model(ref)
    return LoadedModel(ref=ref, model=model, columns=tracking.model_input_columns(model))


@dataclass(frozen=True)
class InputProbe:
    """The input's first rows (checked against the signature), digest and row count if known."""

    uri: str
    sample: pd.DataFrame
    digest: str
    rows: int | None


@io_task("check-input", cache_policy=NO_CACHE)
def check_input(
    loaded: LoadedModel, input_uri: str, output_uri: str, storage: Storage
) -> InputProbe:
    """Check the input's first rows against the signature and the output URI, writing nothing.

    Later chunks are checked again as they are scored; this catches the usual
    mistakes (a wrong file, a renamed column) before a run or a file exists.
    """
    table_format(output_uri)
    if output_uri.rstrip("/") == input_uri.rstrip("/"):
        raise InputError(f"output: {output_uri} is the input; choose another URI")
    options = options_for(storage, input_uri)
    dtype = csv_dtypes(loaded.columns or [])
    chunks = storage_io.iter_table(input_uri, PROBE_ROWS, options, dtype=dtype)
    try:
        sample = next(chunks)
    finally:
        chunks.close()
    sample = loaded.conform(sample, input_uri)
    stamp_predictions(sample.head(0), [], loaded.identity)  # reserved output columns
    rows = _checked_rows(loaded, input_uri, options, dtype)
    return InputProbe(
        uri=input_uri,
        sample=sample,
        digest=storage_io.digest(input_uri, options),
        rows=rows,  # the bar's total
    )


def _checked_rows(
    loaded: LoadedModel, uri: str, options: dict[str, Any] | None, dtype: dict[str, Any]
) -> int:
    """Every row conforms to the signature and holds no infinite model input: the rows.

    Scoring refuses what training refuses (`libs.datasets.checks.check_finite`),
    in one pass before any run or output exists; found mid-batch, the model
    would fail with a FAILED run. The pass also counts the rows (the bar's total).
    """
    rows = 0
    for chunk in storage_io.iter_table(uri, SCAN_ROWS, options, dtype=dtype):
        chunk = loaded.conform(chunk, f"{uri} (rows {rows + 1}-{rows + len(chunk)})")
        used = [c.name for c in loaded.columns] if loaded.columns else list(chunk.columns)
        for column in [c for c in used if c in chunk.columns]:
            series = chunk[column]
            if not pd.api.types.is_float_dtype(series.dtype):
                continue
            infinite = np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                first = rows + int(np.argmax(infinite)) + 1
                raise InputError(
                    f"{uri}: column '{column}' has infinite values (first at row {first}); "
                    "the model cannot score them (training refuses them too): replace them"
                )
        rows += len(chunk)
    return rows


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
    "InputProbe",
    "LoadedModel",
    "check_input",
    "drift_reference",
    "drift_report",
    "load_model",
    "log_batch",
    "publish_batch_summary",
    "score",
    "start_inference_run",
]
