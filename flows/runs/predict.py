"""The batch scoring flow: resolve the model, check the input, score in chunks, report drift."""

from __future__ import annotations

from prefect import flow

from flows.config.predict import PredictConfig
from libs.commands import mlflow_ui_command
from libs.scoring import BatchSummary
from libs.settings import PlatformSettings, check_environment
from tasks import tracking
from tasks.lifecycle import finish_tracking
from tasks.predict import (
    drift_reference,
    drift_report,
    log_batch,
    publish_batch_summary,
    score,
    start_inference_run,
)
from tasks.predict_input import check_input, load_model
from tasks.storage import open_storage


@flow(name="batch-predict", version="1")
def batch_predict(
    config: PredictConfig, show_progress: bool = False, settings: PlatformSettings | None = None
) -> BatchSummary:
    """Score `config.input` with a registered model into `config.output`, with a drift check.

    `settings` are the caller's; built and checked here when not given.
    """
    settings = check_environment(settings)
    name, alias, version = config.model_parts

    # 1. Model and input: resolved and checked before anything is written; the storage
    #    block's credentials reach MLflow's artifact client before the model is loaded
    storage = open_storage(settings)
    tracking.use_artifact_credentials(storage.artifact_env())
    loaded = load_model(settings, name, alias, version)
    probe = check_input(loaded, config.input, config.output, storage)
    reference = drift_reference(loaded, probe, config.drift, storage)

    # 2. Tracking: one MLflow run per batch, in the inference experiment
    run = start_inference_run(
        settings,
        storage,
        experiment=config.experiment,
        loaded=loaded,
        probe=probe,
        params=config.flat_params(),
        tags={"framework": "pyfunc", "kind": "batch-inference"},
    )
    with tracking.failing_on_error(run):
        # 3. Scoring in chunks, drift counted on the way
        result = score(
            loaded,
            probe,
            config.output,
            storage,
            chunk_rows=config.chunk_rows,
            reference=reference,
            show_progress=show_progress,
        )

        # 4. Drift report, metrics and artifacts
        meta = {
            "run id": run.run_id,
            "model": f"{loaded.ref.name} version {loaded.ref.version}",
            "model run id": loaded.ref.run_id,
            "input": probe.uri,
            "input sha256": probe.digest,
            "output": result.output_uri,
        }
        html = drift_report(f"{loaded.ref.name}: input drift", result, meta)
        report_uri = log_batch(run, result, html, storage)
        finish_tracking(run)

    # 5. Summary in the Prefect UI
    summary = BatchSummary(
        rows=result.rows,
        output_uri=result.output_uri,
        model_name=loaded.ref.name,
        model_version=loaded.ref.version,
        model_run_id=loaded.ref.run_id,
        run_id=run.run_id,
        run_url=run.url,
        experiment=config.experiment,
        seconds=result.seconds,
        flagged=result.drift.flagged if result.drift is not None else None,
        ui_command=mlflow_ui_command(settings),
        drift_report=report_uri,
    )
    publish_batch_summary(summary)
    return summary


__all__ = ["batch_predict"]
