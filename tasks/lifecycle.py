"""The training run's tasks: start it, log its model and metrics, finish it.

Thin `@task` wrappers: every MLflow call they make goes through `tasks.tracking`,
the one owner of the MLflow lifecycle; these only choose what a training run records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE

from blocks.storage import Storage
from libs.datasets import Split, split_digest
from libs.gate import GateSpec, check_gate_metric
from libs.models import ModelAdapter
from libs.settings import PlatformSettings
from tasks import tracking
from tasks._common import io_task
from tasks.data import Snapshot
from tasks.preprocess import Features


@io_task("start-tracking", cache_policy=NO_CACHE)
def start_tracking(
    settings: PlatformSettings,
    *,
    experiment: str,
    run_name: str,
    params: dict[str, str],
    tags: dict[str, str],
    gate: GateSpec,
    snapshot: Snapshot,
    split: Split,
    storage: Storage,
    parent_run_id: str | None = None,
    config: dict[str, Any] | None = None,
) -> tracking.RunHandle:
    """One MLflow run per flow run, linked both ways, with the datasets as inputs.

    `config` (the validated config, `model_dump(mode="json")`) is kept as YAML and
    JSON artifacts with the training environment: what `--reproduce` re-runs.
    A sweep's point (under `parent_run_id`) is named by its factor values.
    """
    from prefect.runtime import flow_run
    from prefect.settings import get_current_settings

    check_gate_metric(gate, snapshot.task)
    flow_run_id = str(flow_run.id) if flow_run.id else None
    all_tags = dict(tags)
    all_tags.update(
        {
            "data.snapshot_uri": snapshot.uri,
            "data.snapshot_sha256": snapshot.digest,
            "data.source_uri": snapshot.source_uri,
            "data.source_sha256": snapshot.source_digest,
            "data.rows": str(snapshot.rows),
            "task": snapshot.task,
        }
    )
    has_ui = bool(flow_run_id and get_current_settings().api.url and flow_run.ui_url)
    all_tags.update(
        tracking.link_tags(
            flow_run_id,
            flow_run_name=str(flow_run.name),
            flow_run_url=str(flow_run.ui_url) if has_ui else None,
        )
    )
    # Which machine, process (and worker) trained it: tracking.start_run adds them.
    if parent_run_id:
        # MLflow shows the run nested under its parent (a sweep's run).
        all_tags["mlflow.parentRunId"] = parent_run_id
        run_name = tracking.point_run_name(settings, parent_run_id, params) or run_name
    tracking.use_artifact_credentials(storage.artifact_env())
    run = tracking.start_run(
        settings,
        artifact_root=settings.artifact_root_for(storage.root),
        experiment=experiment,
        run_name=run_name,
        params=params,
        tags=all_tags,
        flow_run_id=flow_run_id,
        resume=not _first_attempt(),
    )
    if config is not None:
        tracking.log_run_record(run, config)
    # The rows are named by the snapshot's digest and the split, not re-hashed.
    rows = split_digest(snapshot.digest, split)
    tracking.log_datasets(
        run,
        [
            tracking.DatasetRef(
                lambda: split.x_train.assign(**{snapshot.target: split.y_train}),
                name=f"{snapshot.name}-train",
                source=snapshot.uri,
                context="training",
                target=snapshot.target,
                digest=rows("training"),
            ),
            tracking.DatasetRef(
                lambda: split.x_test.assign(**{snapshot.target: split.y_test}),
                name=testing_dataset(snapshot, split)[0],
                source=snapshot.uri,
                context="testing",
                target=snapshot.target,
                digest=testing_dataset(snapshot, split)[1],
            ),
        ],
    )
    return run


def _first_attempt() -> bool:
    """Whether this task and its flow run are on their first try: no run of theirs can exist.

    A retried task or flow run may have created its MLflow run before failing;
    only then does `start_run` look for it (a search per run otherwise).
    """
    from prefect.context import FlowRunContext, TaskRunContext

    task_run, flow_run = TaskRunContext.get(), FlowRunContext.get()
    if task_run is None or flow_run is None or flow_run.flow_run is None:
        return False
    return task_run.task_run.run_count <= 1 and flow_run.flow_run.run_count <= 1


def testing_dataset(snapshot: Snapshot, split: Split) -> tuple[str, str]:
    """The name and digest of the run's test rows, as logged: metrics are measured on them."""
    return f"{snapshot.name}-test", split_digest(snapshot.digest, split)("testing")


@io_task("log-model", cache_policy=NO_CACHE)
def log_model(
    run: tracking.RunHandle,
    model: ModelAdapter,
    features: Features,
    split: Split,
    *,
    name: str = "model",
    params: dict[str, str] | None = None,
) -> str:
    """Log the raw-input pipeline (features + model) with signature and example.

    A scikit-learn pipeline is logged in MLflow's sklearn flavor; a Keras
    network with its fitted features as a pyfunc model that takes raw rows.
    The logged model is called `name` (the registered model's) and carries `params`.
    """
    pipeline = model.as_pipeline(features.preprocessor)
    example = split.x_train.head(5)
    if model.framework == "tensorflow":
        from libs.models.tensorflow import TensorflowModel, save_artifacts

        assert isinstance(model, TensorflowModel)
        with tempfile.TemporaryDirectory(prefix="keras-model-") as tmp:
            folder = save_artifacts(model, features.preprocessor, Path(tmp) / "model")
            return tracking.log_keras_model(
                run, folder, example, pipeline.predict(example), name=name, params=params
            )
    return tracking.log_sklearn_model(
        run, pipeline, example, pipeline.predict(example), name=name, params=params
    )


@io_task("log-metrics", cache_policy=NO_CACHE)
def log_metrics(
    run: tracking.RunHandle,
    metrics: dict[str, float],
    model_uri: str | None = None,
    dataset: tuple[str, str] | None = None,
) -> None:
    """The run's metrics; with a `model_uri` and the test `dataset` (name, digest) they are
    the logged model's too, tied to the rows they were measured on."""
    if model_uri and dataset:
        tracking.link_model_metrics(
            run, model_uri, metrics, dataset_name=dataset[0], dataset_digest=dataset[1]
        )
    else:
        tracking.log_metrics(run, metrics)


@io_task("record-config", cache_policy=NO_CACHE)
def record_config(run: tracking.RunHandle, config: dict[str, Any]) -> None:
    """The validated config (YAML and JSON) and the environment, into an existing run."""
    tracking.log_run_record(run, config)


@io_task("finish-tracking", cache_policy=NO_CACHE)
def finish_tracking(run: tracking.RunHandle) -> None:
    tracking.end_run(run, "FINISHED")


__all__ = [
    "finish_tracking",
    "log_metrics",
    "log_model",
    "record_config",
    "start_tracking",
    "testing_dataset",
]
