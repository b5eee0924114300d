"""Read-only searches: a sweep's points, a model's training data, a loaded model."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from libs.settings import PlatformSettings
from tasks.tracking._client import MlflowClient, client_for
from tasks.tracking._lineage import recorded_config
from tasks.tracking._registry import ModelVersionRef


@dataclass(frozen=True)
class ChildRun:
    """A training run of a sweep point, as found in the store."""

    run_id: str
    experiment_id: str
    status: str
    metrics: dict[str, float]
    tags: dict[str, str]


@dataclass(frozen=True)
class TrainingData:
    """Where the model's training snapshot lives and which of its columns is the target."""

    snapshot_uri: str | None
    target: str
    features: dict[str, Any] | None = None  # the run's feature spec, as its config recorded it


def _child(run: Any) -> ChildRun:
    return ChildRun(
        run_id=run.info.run_id,
        experiment_id=run.info.experiment_id,
        status=run.info.status,
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
    )


def sweep_point_runs(
    settings: PlatformSettings, *, experiment: str, sweep_ids: tuple[str, ...]
) -> dict[str, list[ChildRun]]:
    """Every FINISHED run of these sweeps, newest first, per sweep id: one search each.

    A sweep looks its reusable points up once, before its points start,
    instead of one search per point.
    """
    client = client_for(settings)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return {}
    out: dict[str, list[ChildRun]] = {}
    for sweep_id in dict.fromkeys(sweep_ids):
        runs = client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.`sweep.id` = '{sweep_id}' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=50_000,
        )
        out[sweep_id] = [_child(r) for r in runs if r.data.tags.get("sweep.role") != "parent"]
    return out


def get_child_run(settings: PlatformSettings, run_id: str) -> ChildRun:
    """A sweep point's run by its id (the point's training flow returned it)."""
    return _child(client_for(settings).get_run(run_id))


def find_child_run(
    settings: PlatformSettings, *, parent_run_id: str, config_digest: str
) -> ChildRun | None:
    """The newest run nested under `parent_run_id` with this config digest, any status."""
    client = client_for(settings)
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    runs = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`mlflow.parentRunId` = '{parent_run_id}' "
            f"and tags.config_digest = '{config_digest}'"
        ),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return _child(runs[0]) if runs else None


def training_data(ref: ModelVersionRef) -> TrainingData:
    """The training run's data snapshot (tag `data.snapshot_uri`), target column and feature
    spec (from its recorded config; None for a run that kept none)."""
    if not ref.run_id:
        return TrainingData(snapshot_uri=None, target="target")
    client = MlflowClient(ref.tracking_uri)
    run = client.get_run(ref.run_id)
    target = run.data.params.get("data.target") or run.data.tags.get("data.target") or "target"
    config = recorded_config(client, ref.run_id) or {}
    features = config.get("features") if isinstance(config.get("features"), dict) else None
    return TrainingData(
        snapshot_uri=run.data.tags.get("data.snapshot_uri"), target=target, features=features
    )


def load_pyfunc_model(ref: ModelVersionRef) -> Any:
    """The version's model behind MLflow's generic pyfunc interface (any flavor)."""
    import mlflow.pyfunc

    mlflow.set_tracking_uri(ref.tracking_uri)
    with warnings.catch_warnings():
        # cloudpickle's safety notice: the platform loads models it logged itself.
        warnings.simplefilter("ignore", UserWarning)
        return mlflow.pyfunc.load_model(ref.model_uri)


def model_input_columns(model: Any) -> list[Any] | None:
    """The model's named input columns as `libs.scoring.ColumnSpec`s; None without a
    column signature (no signature, or a tensor one), where no column check applies."""
    from libs.scoring import ColumnSpec

    schema = model.metadata.get_input_schema()
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return None
    columns = []
    for spec in schema.inputs:
        kind = getattr(spec.type, "name", None) or str(spec.type)
        columns.append(ColumnSpec(name=str(spec.name), type=kind, required=bool(spec.required)))
    return columns


__all__ = [
    "ChildRun",
    "TrainingData",
    "find_child_run",
    "get_child_run",
    "load_pyfunc_model",
    "model_input_columns",
    "sweep_point_runs",
    "training_data",
]
